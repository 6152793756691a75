using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Security;

/// <summary>
/// Brand onboarding does not tell a 3PL whether the brand's address has an account, or of which kind: a new
/// address, a merchant's, another 3PL's and the caller's own all answer 201 with the same shape, and the shared
/// login link's page and its one action answer alike. An existing account is never renamed or changed from the
/// 3PL's input; its owner learns of the invitation by e-mail and approves it through the mailed link.
/// </summary>
[Collection("azurite")]
public sealed class BrandOnboardingEnumerationTests(AzuriteFixture azurite)
{
    private static object Brand(string email) => new
    {
        contact = new { name = "Ana Ruiz", email, phone = "+34 600 000 000" },
        company = new { name = "Renamed By The 3PL", shopUrl = "https://socks.example" },
        warehouse = new { name = "Main", address = new { line1 = "Calle 1", city = "Madrid", postalCode = "28001", countryCode = "es" } },
        ordersPerMonth = "500-2000",
        priorities = new[] { "speed" },
    };

    [Fact]
    public async Task Onboarding_a_new_a_merchant_a_3pl_and_the_own_address_answers_alike()
    {
        using var app = new TestApp(azurite);
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var otherThreePl = await Seed.AccountAsync(app, "threepl");
        using var tpl = app.WithKey(threePl.ApiKey);
        using var shop = app.WithKey(merchant.ApiKey);
        var merchantName = (await ApiAssert.Json(await shop.GetAsync("/v1/account"), HttpStatusCode.OK)).GetProperty("name").GetString();
        using var browser = app.CreateClient();

        var traces = new List<(string Case, string Shape, string Page)>();
        var answers = new Dictionary<string, JsonElement>();
        foreach (var (name, email) in new[] { ("new address", $"{Guid.NewGuid():N}@example.com"), ("merchant's address", merchant.Email), ("another 3PL's address", otherThreePl.Email), ("own address", threePl.Email) })
        {
            var created = await ApiAssert.Json(await tpl.PostAsJsonAsync("/v1/brands", Brand(email)), HttpStatusCode.Created);
            answers[name] = created;
            var shape = string.Join(',', created.EnumerateObject().Select(p => $"{p.Name}:{p.Value.ValueKind}"))
                + "|" + string.Join(',', created.GetProperty("connection").EnumerateObject().Select(p => $"{p.Name}:{p.Value.ValueKind}"));
            var link = new Uri(created.GetProperty("loginLink").GetString()!).PathAndQuery;
            var page = await browser.GetAsync(link);
            var sent = await browser.PostAsync(link, new FormUrlEncodedContent([new KeyValuePair<string, string>("decision", "send")]));
            traces.Add((name, shape, $"{(int)page.StatusCode} {(int)sent.StatusCode} {Structure(await sent.Content.ReadAsStringAsync())}"));
            Assert.Equal("pending", created.GetProperty("connection").GetProperty("status").GetString());
        }
        Assert.True(traces.Select(t => t.Shape).Distinct().Count() == 1, string.Join("\n", traces.Select(t => $"{t.Case}: {t.Shape}")));
        Assert.True(traces.Select(t => t.Page).Distinct().Count() == 1, string.Join("\n", traces.Select(t => $"{t.Case}: {t.Page}")));
        Assert.Equal(merchant.Id, answers["merchant's address"].GetProperty("merchantAccountId").GetString());
        Assert.DoesNotContain(otherThreePl.Id, answers["another 3PL's address"].GetRawText(), StringComparison.Ordinal);

        // The existing merchant keeps its name; the invitation reaches it by e-mail and it approves as any invitee.
        Assert.Equal(merchantName, (await ApiAssert.Json(await shop.GetAsync("/v1/account"), HttpStatusCode.OK)).GetProperty("name").GetString());
        var invitation = await Mailbox.WaitForAsync(app, merchant.Email, m => m.ConnectLink.Length > 0);
        await browser.PostAsync(invitation.ConnectLink, new FormUrlEncodedContent([new("decision", "approve"), new("understood", "on")]));
        var connection = answers["merchant's address"].GetProperty("connection").GetProperty("id").GetString()!;
        Assert.Equal("active", (await ApiAssert.Json(await shop.GetAsync($"/v1/connections/{connection}"), HttpStatusCode.OK)).GetProperty("status").GetString());
        Assert.Equal(merchantName, (await ApiAssert.Json(await shop.GetAsync("/v1/account"), HttpStatusCode.OK)).GetProperty("name").GetString());

        // The other 3PL learns the truth from its inbox only.
        var notice = await Mailbox.WaitForAsync(app, otherThreePl.Email);
        Assert.Contains("cannot accept", notice.Text, StringComparison.Ordinal);
        Assert.Empty(notice.ConnectLink);
    }

    /// <summary>The page without what legitimately differs (the masked address): its tags and their order.</summary>
    private static string Structure(string html) =>
        string.Join("", System.Text.RegularExpressions.Regex.Matches(html, "<[a-z0-9]+").Select(m => m.Value));
}
