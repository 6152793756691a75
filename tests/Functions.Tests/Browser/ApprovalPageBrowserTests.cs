using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Playwright;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Browser;

/// <summary>
/// The approval page in a real headless Chromium (Debian's package, driven by Playwright): what a merchant
/// who clicks the e-mail link actually sees and does.
/// </summary>
[Collection("azurite")]
public sealed class ApprovalPageBrowserTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private BrowserSession _session = null!;

    private TestApp App => _session.App;

    private IBrowser Chromium => _session.Browser;

    private Uri BaseAddress => _session.BaseAddress;

    public async Task InitializeAsync() => _session = await BrowserSession.StartAsync(azurite);

    public async Task DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task A_merchant_approves_in_the_browser_and_a_second_visit_says_the_link_was_used()
    {
        var threePl = await Seed.AccountAsync(App, "threepl");
        var merchant = await Seed.AccountAsync(App, "merchant");
        var id = await Connect.InviteAsync(App, threePl, new { email = merchant.Email, companyName = "Fast Fulfilment" });
        var mail = await Mailbox.WaitForAsync(App, merchant.Email);
        var link = new Uri(BaseAddress, new Uri(mail.ConnectLink).PathAndQuery);

        var page = await Chromium.NewPageAsync();
        var response = await page.GotoAsync(link.ToString());
        Assert.Equal(200, response!.Status);
        Assert.Contains("Review the invitation", await page.TitleAsync(), StringComparison.Ordinal);
        await page.GetByRole(AriaRole.Heading, new() { Name = "Connect your account" }).WaitForAsync();

        // The checkbox is required: the browser itself refuses to submit without it.
        await page.GetByRole(AriaRole.Button, new() { Name = "Approve connection" }).ClickAsync();
        Assert.Contains("Review the invitation", await page.TitleAsync(), StringComparison.Ordinal);
        Assert.Equal("pending", await StatusAsync(merchant, id));

        await page.GetByLabel("I understand what this connection allows").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Approve connection" }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Connected" }).WaitForAsync();
        Assert.Equal("active", await StatusAsync(merchant, id));

        var again = await Chromium.NewPageAsync();
        var used = await again.GotoAsync(link.ToString());
        Assert.Equal((int)HttpStatusCode.Gone, used!.Status);
        await again.GetByRole(AriaRole.Heading, new() { Name = "This link has already been used" }).WaitForAsync();
    }

    private async Task<string> StatusAsync(SeededAccount account, string id)
    {
        using var client = App.WithKey(account.ApiKey);
        return (await ApiAssert.Json(await client.GetAsync($"/v1/connections/{id}"), HttpStatusCode.OK)).GetProperty("status").GetString()!;
    }
}
