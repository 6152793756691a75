using System.Net;
using System.Net.Http.Json;
using ThreePL.Functions.Tests.Infrastructure;
using ThreePL.Functions.Tests.Orders;

namespace ThreePL.Functions.Tests.Security;

/// <summary>
/// Nothing the server emits — the OpenAPI <c>servers</c>, <c>Location</c>, links in answers, pages and e-mails — is
/// built from the request's <c>Host</c> or forwarding headers: a spoofed host must not end up in a link a victim
/// follows. Links come from <c>ThreePL:PublicBaseUrl</c>.
/// </summary>
[Collection("azurite")]
public sealed class HostHeaderTests(AzuriteFixture azurite)
{
    private const string Evil = "evil.attacker.example";
    private const string PublicBaseUrl = "https://connect.operator.example";

    [Fact]
    public async Task A_spoofed_host_never_reaches_a_link_the_server_emits()
    {
        using var app = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:PublicBaseUrl"] = PublicBaseUrl });
        var emitted = new List<string>();
        HttpClient Spoofing(HttpClient client)
        {
            client.DefaultRequestHeaders.Host = Evil;
            client.DefaultRequestHeaders.Add("X-Forwarded-Host", Evil);
            client.DefaultRequestHeaders.Add("X-Forwarded-Proto", "http");
            client.DefaultRequestHeaders.Add("Forwarded", $"host={Evil};proto=http");
            client.DefaultRequestHeaders.Add("X-Original-Host", Evil);
            return client;
        }
        async Task Record(HttpResponseMessage response)
        {
            emitted.Add($"{(int)response.StatusCode} {response.Headers.Location} {await response.Content.ReadAsStringAsync()}");
        }

        using var anonymous = Spoofing(app.CreateClient());
        var document = await anonymous.GetAsync("/openapi/v1.json");
        await Record(document);
        Assert.Contains(PublicBaseUrl, emitted[^1], StringComparison.Ordinal);

        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        using var tpl = Spoofing(app.WithKey(threePl.ApiKey));
        using var shop = Spoofing(app.WithKey(merchant.ApiKey));
        using var admin = Spoofing(app.Admin());
        await Record(await admin.PostAsJsonAsync("/v1/admin/accounts", new { kind = "merchant", name = "Spoof", email = $"{Guid.NewGuid():N}@example.com" }));

        var invitee = $"{Guid.NewGuid():N}@example.com";
        await Record(await tpl.PostAsJsonAsync("/v1/connections", new { email = invitee }));
        var mail = await Mailbox.WaitForAsync(app, invitee);
        emitted.Add(mail.Text + mail.Html);
        Assert.StartsWith(PublicBaseUrl + "/connect/", mail.ConnectLink, StringComparison.Ordinal);
        await Record(await anonymous.GetAsync(new Uri(mail.ConnectLink).PathAndQuery));

        var brand = await tpl.PostAsJsonAsync("/v1/brands", new
        {
            contact = new { name = "Ana Ruiz", email = $"{Guid.NewGuid():N}@example.com", phone = "+34 600 000 000" },
            company = new { name = "Socks S.L.", shopUrl = "https://socks.example" },
            warehouse = new { name = "Main", address = new { line1 = "Calle 1", city = "Madrid", postalCode = "28001", countryCode = "es" } },
            ordersPerMonth = "500-2000",
            priorities = new[] { "speed" },
        });
        await Record(brand);
        Assert.Equal(HttpStatusCode.Created, brand.StatusCode);

        var connection = await Connect.ActiveAsync(app, threePl, merchant);
        await Record(await shop.PostAsJsonAsync("/v1/orders", OrderTestKit.Body("host-1")));
        await Record(await shop.PostAsJsonAsync("/v1/api-keys", new { name = "k", permissions = new[] { "orders:read" } }));
        await Record(await tpl.PostAsync($"/v1/connections/{connection}/impersonation", null));
        await Record(await shop.GetAsync("/v1/no-such-endpoint"));

        Assert.All(emitted, text => Assert.DoesNotContain(Evil, text, StringComparison.OrdinalIgnoreCase));
        Assert.All(Mailbox.All(app), m => Assert.DoesNotContain(Evil, m.Text + m.Html, StringComparison.OrdinalIgnoreCase));
    }
}
