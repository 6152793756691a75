using System.Net;
using System.Net.Http.Json;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Api;

[Collection("azurite")]
public sealed class ConnectPagesTests(AzuriteFixture azurite) : IDisposable
{
    private readonly TestApp _app = new(azurite);

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task Get_only_shows_the_page_and_post_approves()
    {
        var (merchant, id, token) = await InvitedMerchantAsync();
        using var browser = _app.CreateClient();

        for (var i = 0; i < 3; i++)
        {
            var page = await browser.GetAsync($"/connect/{Uri.EscapeDataString(token)}");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            var html = await page.Content.ReadAsStringAsync();
            Assert.Contains("I understand what this connection allows", html, StringComparison.Ordinal);
            Assert.Contains("Test threepl", html, StringComparison.Ordinal);
            Assert.Equal("no-store", page.Headers.CacheControl?.ToString());
        }
        Assert.Equal("pending", await StatusAsync(merchant, id));

        var missingConfirmation = await browser.PostAsync($"/connect/{Uri.EscapeDataString(token)}", Form(("decision", "approve")));
        Assert.Equal(HttpStatusCode.BadRequest, missingConfirmation.StatusCode);
        Assert.Contains("role=\"alert\"", await missingConfirmation.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("pending", await StatusAsync(merchant, id));

        var approved = await browser.PostAsync($"/connect/{Uri.EscapeDataString(token)}", Form(("decision", "approve"), ("understood", "on")));
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        Assert.Contains("Connected", await approved.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("active", await StatusAsync(merchant, id));

        var reused = await browser.PostAsync($"/connect/{Uri.EscapeDataString(token)}", Form(("decision", "decline")));
        Assert.Equal(HttpStatusCode.Gone, reused.StatusCode);
        Assert.Contains("already been used", await reused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Gone, (await browser.GetAsync($"/connect/{Uri.EscapeDataString(token)}")).StatusCode);
        Assert.Equal("active", await StatusAsync(merchant, id));
    }

    [Fact]
    public async Task Decline_through_the_page()
    {
        var (merchant, id, token) = await InvitedMerchantAsync();
        using var browser = _app.CreateClient();
        var declined = await browser.PostAsync($"/connect/{Uri.EscapeDataString(token)}", Form(("decision", "decline")));
        Assert.Equal(HttpStatusCode.OK, declined.StatusCode);
        Assert.Equal("declined", await StatusAsync(merchant, id));
    }

    [Theory]
    [InlineData("nonsense")]
    [InlineData("con_00000000000000000000.AAAA")]
    [InlineData("<script>alert(1)</script>")]
    [InlineData("con_' or 1 eq 1.x")]
    public async Task Unknown_or_forged_tokens_get_a_clear_page(string token)
    {
        using var browser = _app.CreateClient();
        foreach (var response in new[]
        {
            await browser.GetAsync($"/connect/{Uri.EscapeDataString(token)}"),
            await browser.PostAsync($"/connect/{Uri.EscapeDataString(token)}", Form(("decision", "approve"), ("understood", "on"))),
        })
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            var html = await response.Content.ReadAsStringAsync();
            Assert.Contains("This link is not valid", html, StringComparison.Ordinal);
            Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_token_for_one_connection_does_not_open_another()
    {
        var (_, _, token) = await InvitedMerchantAsync();
        var (_, otherId, _) = await InvitedMerchantAsync();
        var forged = otherId + token[token.IndexOf('.', StringComparison.Ordinal)..];
        using var browser = _app.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync($"/connect/{Uri.EscapeDataString(forged)}")).StatusCode);
    }

    [Fact]
    public async Task An_invitee_without_an_account_creates_it_on_the_page_and_sees_its_key_once()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var id = await Connect.InviteAsync(_app, threePl, new { email = "brand-new@example.com", companyName = "Fast Fulfilment" });
        var mail = await Mailbox.WaitForAsync(_app, "brand-new@example.com");
        using var browser = _app.CreateClient();
        var page = await (await browser.GetAsync(mail.ConnectLink)).Content.ReadAsStringAsync();
        Assert.Contains("You do not have an account yet", page, StringComparison.Ordinal);

        var approved = await browser.PostAsync(mail.ConnectLink, Form(("decision", "approve"), ("understood", "on"), ("name", "Brand New Socks")));
        var html = await approved.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        var key = System.Text.RegularExpressions.Regex.Match(html, "value=\"(tpl_[^\"]+)\"").Groups[1].Value;
        Assert.StartsWith("tpl_", key, StringComparison.Ordinal);

        using var client = _app.WithKey(key);
        var account = await ApiAssert.Json(await client.GetAsync("/v1/account"), HttpStatusCode.OK);
        Assert.True(account.GetProperty("activated").GetBoolean());
        Assert.Equal("Brand New Socks", account.GetProperty("name").GetString());
        Assert.Equal("merchant", account.GetProperty("kind").GetString());
        var connection = await ApiAssert.Json(await client.GetAsync($"/v1/connections/{id}"), HttpStatusCode.OK);
        Assert.Equal("active", connection.GetProperty("status").GetString());

        var again = await browser.PostAsync(mail.ConnectLink, Form(("decision", "approve"), ("understood", "on")));
        Assert.Equal(HttpStatusCode.Gone, again.StatusCode);
        Assert.DoesNotContain("tpl_", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_shared_login_link_cannot_activate_the_brand_only_the_link_mailed_to_the_brand_can()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        using var tpl = _app.WithKey(threePl.ApiKey);
        var brandEmail = $"ana-{Guid.NewGuid():N}@socks.example";
        var body = new
        {
            contact = new { name = "Ana Ruiz", email = brandEmail, phone = "+34 600 000 000" },
            company = new { name = "Socks S.L.", shopUrl = "https://socks.example" },
            warehouse = new { name = "Main", address = new { line1 = "Calle 1", city = "Madrid", postalCode = "28001", countryCode = "es" } },
            ordersPerMonth = "500-2000",
            priorities = new[] { "speed", "sustainability" },
        };
        var created = await ApiAssert.Json(await tpl.PostAsJsonAsync("/v1/brands", body), HttpStatusCode.Created);
        var link = created.GetProperty("loginLink").GetString()!;
        var connectionId = created.GetProperty("connection").GetProperty("id").GetString()!;
        Assert.Equal("pending", created.GetProperty("connection").GetProperty("status").GetString());
        Assert.StartsWith("http://127.0.0.1:7071/connect/", link, StringComparison.Ordinal);
        // Onboarding the same address again conflicts like a second invitation, whether or not an account was created for it.
        await ApiAssert.Problem(await tpl.PostAsJsonAsync("/v1/brands", body), HttpStatusCode.Conflict, "connection_already_pending");

        // Whoever holds the shared link (the 3PL did) can only have the confirmation mailed to the brand.
        using var browser = _app.CreateClient();
        var shared = new Uri(link).PathAndQuery;
        var page = await (await browser.GetAsync(shared)).Content.ReadAsStringAsync();
        Assert.Contains("E-mail me the confirmation link", page, StringComparison.Ordinal);
        Assert.DoesNotContain("value=\"approve\"", page, StringComparison.Ordinal);
        var attempt = await browser.PostAsync(shared, Form(("decision", "approve"), ("understood", "on"), ("name", "Taken over")));
        var attemptHtml = await attempt.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, attempt.StatusCode);
        Assert.DoesNotContain("tpl_", attemptHtml, StringComparison.Ordinal);
        Assert.Contains("We have e-mailed a confirmation link to <strong>a•••@socks.example</strong>", attemptHtml, StringComparison.Ordinal);
        Assert.Equal("pending", (await ApiAssert.Json(await tpl.GetAsync($"/v1/connections/{connectionId}"), HttpStatusCode.OK)).GetProperty("status").GetString());

        // The brand's own inbox has the link that completes it, and it is not the shared one.
        var mailed = await Mailbox.WaitForAsync(_app, brandEmail, m => m.File.Contains("act_", StringComparison.Ordinal));
        Assert.NotEqual(new Uri(link).AbsolutePath, new Uri(mailed.ConnectLink).AbsolutePath);
        Assert.All(Mailbox.All(_app).Where(m => m.To == brandEmail), m => Assert.Equal(mailed.ConnectLink, m.ConnectLink));
        var activated = await (await browser.PostAsync(mailed.ConnectLink, Form(("decision", "approve"), ("understood", "on"), ("name", "Socks S.L.")))).Content.ReadAsStringAsync();
        var key = System.Text.RegularExpressions.Regex.Match(activated, "value=\"(tpl_[^\"]+)\"").Groups[1].Value;
        using var brand = _app.WithKey(key);
        Assert.Equal("active", (await ApiAssert.Json(await brand.GetAsync($"/v1/connections/{connectionId}"), HttpStatusCode.OK)).GetProperty("status").GetString());
        var trail = await ApiAssert.Json(await brand.GetAsync("/v1/audit-events"), HttpStatusCode.OK);
        Assert.Contains(trail.GetProperty("items").EnumerateArray(), e => e.GetProperty("action").GetString() == "account.activated");
        var connectionTrail = await ApiAssert.Json(await tpl.GetAsync($"/v1/audit-events?connectionId={connectionId}"), HttpStatusCode.OK);
        Assert.Contains(connectionTrail.GetProperty("items").EnumerateArray(), e => e.GetProperty("action").GetString() == "account.activation_link_requested");

        Assert.Equal(HttpStatusCode.Gone, (await browser.GetAsync(shared)).StatusCode);
        Assert.Equal(HttpStatusCode.Gone, (await browser.PostAsync(shared, Form(("decision", "send")))).StatusCode);
    }

    [Fact]
    public async Task The_3pls_nickname_and_company_never_name_or_reach_the_invited_merchant()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var invitee = $"shop-{Guid.NewGuid():N}"[..20];
        var email = invitee + "@example.com";
        var id = await Connect.InviteAsync(_app, threePl, new { email, clientName = "Nick-7Q private", companyName = "Fast Fulfilment Ltd" });
        var mail = await Mailbox.WaitForAsync(_app, email);
        Assert.DoesNotContain("Nick-7Q", mail.Text + mail.Html, StringComparison.Ordinal);
        using var browser = _app.CreateClient();
        var page = await (await browser.GetAsync(mail.ConnectLink)).Content.ReadAsStringAsync();
        Assert.DoesNotContain("Nick-7Q", page, StringComparison.Ordinal);
        Assert.Contains($"id=\"name\" name=\"name\" type=\"text\" maxlength=\"{ThreePL.Functions.ConnectPages.ConnectPage.MaxNameLength}\" autocomplete=\"organization\" value=\"{invitee}\"", page, StringComparison.Ordinal);

        var approved = await (await browser.PostAsync(mail.ConnectLink, Form(("decision", "approve"), ("understood", "on"), ("name", "")))).Content.ReadAsStringAsync();
        var key = System.Text.RegularExpressions.Regex.Match(approved, "value=\"(tpl_[^\"]+)\"").Groups[1].Value;
        using var shop = _app.WithKey(key);
        var account = await ApiAssert.Json(await shop.GetAsync("/v1/account"), HttpStatusCode.OK);
        Assert.Equal(invitee, account.GetProperty("name").GetString());
        var seen = string.Join('\n',
            (await shop.GetStringAsync($"/v1/connections/{id}")),
            (await shop.GetStringAsync("/v1/connections")),
            (await shop.GetStringAsync($"/v1/connections/{id}/settings")),
            (await shop.GetStringAsync($"/v1/audit-events?connectionId={id}")),
            (await shop.GetStringAsync("/v1/account")));
        Assert.DoesNotContain("Nick-7Q", seen, StringComparison.Ordinal);
        using var tpl = _app.WithKey(threePl.ApiKey);
        Assert.Equal("Nick-7Q private", (await ApiAssert.Json(await tpl.GetAsync($"/v1/connections/{id}"), HttpStatusCode.OK)).GetProperty("clientName").GetString());
    }

    [Fact]
    public async Task Brand_onboarding_validates_every_field_and_is_for_3pls_only()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var merchant = await Seed.AccountAsync(_app, "merchant");
        using var tpl = _app.WithKey(threePl.ApiKey);
        var problem = await ApiAssert.Problem(await tpl.PostAsJsonAsync("/v1/brands", new { contact = new { email = "nope" }, ordersPerMonth = "lots", priorities = new[] { "speed", "speed" } }), HttpStatusCode.BadRequest, "validation_failed");
        var errors = problem.GetProperty("errors");
        foreach (var field in new[] { "contact.name", "contact.email", "company.name", "company.shopUrl", "warehouse.name", "warehouse.address.countryCode", "ordersPerMonth", "priorities" })
        {
            Assert.True(errors.TryGetProperty(field, out _), field);
        }
        using var shop = _app.WithKey(merchant.ApiKey);
        await ApiAssert.Problem(await shop.PostAsJsonAsync("/v1/brands", new { }), HttpStatusCode.Forbidden, "threepl_only");
    }

    private async Task<(SeededAccount Merchant, string Id, string Token)> InvitedMerchantAsync()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var merchant = await Seed.AccountAsync(_app, "merchant");
        var id = await Connect.InviteAsync(_app, threePl, new { email = merchant.Email });
        var mail = await Mailbox.WaitForAsync(_app, merchant.Email);
        return (merchant, id, mail.ConnectToken);
    }

    private async Task<string> StatusAsync(SeededAccount account, string id)
    {
        using var client = _app.WithKey(account.ApiKey);
        return (await ApiAssert.Json(await client.GetAsync($"/v1/connections/{id}"), HttpStatusCode.OK)).GetProperty("status").GetString()!;
    }

    private static FormUrlEncodedContent Form(params (string Key, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value)));
}
