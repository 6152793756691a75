using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
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
    private readonly TestApp _app = new(azurite, new Dictionary<string, string?> { ["ThreePL:Urls"] = "http://127.0.0.1:0" });
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private Uri _baseAddress = null!;

    public async Task InitializeAsync()
    {
        _app.UseKestrel(0);
        _app.StartServer();
        var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        _baseAddress = new Uri(addresses.First());
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = BrowserPath(),
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
        _playwright?.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task A_merchant_approves_in_the_browser_and_a_second_visit_says_the_link_was_used()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var merchant = await Seed.AccountAsync(_app, "merchant");
        var id = await Connect.InviteAsync(_app, threePl, new { email = merchant.Email, companyName = "Fast Fulfilment" });
        var mail = await Mailbox.WaitForAsync(_app, merchant.Email);
        var link = new Uri(_baseAddress, new Uri(mail.ConnectLink).PathAndQuery);

        var page = await _browser!.NewPageAsync();
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

        var again = await _browser.NewPageAsync();
        var used = await again.GotoAsync(link.ToString());
        Assert.Equal((int)HttpStatusCode.Gone, used!.Status);
        await again.GetByRole(AriaRole.Heading, new() { Name = "This link has already been used" }).WaitForAsync();
    }

    private async Task<string> StatusAsync(SeededAccount account, string id)
    {
        using var client = _app.WithKey(account.ApiKey);
        return (await ApiAssert.Json(await client.GetAsync($"/v1/connections/{id}"), HttpStatusCode.OK)).GetProperty("status").GetString()!;
    }

    internal static string BrowserPath() =>
        new[] { Environment.GetEnvironmentVariable("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser" }
            .FirstOrDefault(p => p is not null && File.Exists(p))
        ?? throw new InvalidOperationException("Chromium is not installed: ./test.sh installs Debian's 'chromium' package, or set CHROMIUM_PATH.");
}
