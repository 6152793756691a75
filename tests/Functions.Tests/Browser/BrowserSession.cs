using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Browser;

/// <summary>
/// The app on a real socket and Debian's headless Chromium driven by Playwright, for the tests of what a person sees
/// in a browser. Background networking is off, so the only requests the browser makes are the pages'.
/// </summary>
public sealed class BrowserSession : IAsyncDisposable
{
    private readonly IPlaywright _playwright;

    private BrowserSession(TestApp app, Uri baseAddress, IPlaywright playwright, IBrowser browser)
    {
        App = app;
        BaseAddress = baseAddress;
        _playwright = playwright;
        Browser = browser;
    }

    public TestApp App { get; }

    public Uri BaseAddress { get; }

    public IBrowser Browser { get; }

    public static async Task<BrowserSession> StartAsync(AzuriteFixture azurite)
    {
        var app = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:Urls"] = "http://127.0.0.1:0" });
        app.UseKestrel(0);
        app.StartServer();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = BrowserPath(),
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        return new BrowserSession(app, new Uri(addresses.First()), playwright, browser);
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
        await App.DisposeAsync();
    }

    private static string BrowserPath() =>
        new[] { Environment.GetEnvironmentVariable("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser" }
            .FirstOrDefault(p => p is not null && File.Exists(p))
        ?? throw new InvalidOperationException("Chromium is not installed: ./test.sh installs Debian's 'chromium' package, or set CHROMIUM_PATH.");
}
