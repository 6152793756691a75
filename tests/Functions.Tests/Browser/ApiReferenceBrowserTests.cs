using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Playwright;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Browser;

/// <summary>
/// The API reference page in a real headless Chromium: it renders the document's operations from this host alone,
/// with every request to another host refused (users' networks may be offline too).
/// </summary>
[Collection("azurite")]
public sealed class ApiReferenceBrowserTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private BrowserSession _session = null!;

    private TestApp App => _session.App;

    private IBrowser Chromium => _session.Browser;

    private Uri BaseAddress => _session.BaseAddress;

    public async Task InitializeAsync() => _session = await BrowserSession.StartAsync(azurite);

    public async Task DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task The_reference_page_renders_the_operations_without_any_outside_host()
    {
        var outside = new ConcurrentBag<string>();
        var violations = new ConcurrentBag<string>();
        var page = await Chromium.NewPageAsync();
        await page.RouteAsync("**/*", async route =>
        {
            var url = new Uri(route.Request.Url);
            if (url.Scheme is "http" or "https" && url.Authority != BaseAddress.Authority)
            {
                outside.Add(route.Request.Url);
                await route.AbortAsync();
                return;
            }
            await route.ContinueAsync();
        });
        var errors = new ConcurrentQueue<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                violations.Add(message.Text);
            }
            if (message.Type is "error" or "warning")
            {
                errors.Enqueue(message.Text);
            }
        };
        page.PageError += (_, error) => errors.Enqueue(error);

        var response = await page.GotoAsync(new Uri(BaseAddress, "/docs").ToString());
        Assert.Equal(200, response!.Status);
        try
        {
            // From the document: the first tag's operation summaries (its group opens first) and the last tag.
            await page.GetByText("Liveness probe").First.WaitForAsync(new() { Timeout = 60_000 });
            await page.GetByText("Readiness probe (table and queue storage)").First.WaitForAsync();
            await page.GetByText("Pages", new() { Exact = true }).First.WaitForAsync();
        }
        catch (TimeoutException ex)
        {
            var text = await page.EvaluateAsync<string>("() => document.body.innerText.slice(0, 2000)");
            throw new TimeoutException($"The reference did not render. Browser errors:\n{string.Join("\n", errors)}\nPage text:\n{text}", ex);
        }

        Assert.True(outside.IsEmpty, "The reference page asked outside hosts for: " + string.Join(", ", outside.Distinct()));
        Assert.True(violations.IsEmpty, "Content Security Policy violations: " + string.Join("\n", violations));
    }
}
