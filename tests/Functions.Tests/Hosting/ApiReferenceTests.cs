using System.Net;
using System.Security.Cryptography;
using ThreePL.Functions.Http;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Hosting;

/// <summary><c>GET /docs</c>: the reference page and the vendored Scalar bundle it loads from this host.</summary>
[Collection("azurite")]
public sealed class ApiReferenceTests(AzuriteFixture azurite)
{
    /// <summary>The SHA-256 recorded in src/Functions/Http/ApiReference/README.md and scripts/vendor-scalar.sh.</summary>
    private const string VendoredSha256 = "dcb027152bf20bf2f6dcd66e8f9fb073c1a9e274cf0b94b939a7d99ab8947060";

    [Fact]
    public async Task The_page_renders_the_document_with_the_bundle_served_here()
    {
        using var app = new TestApp(azurite);
        using var client = app.CreateClient();

        var page = await client.GetAsync("/docs");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Equal(ApiReferenceFunctions.ContentSecurityPolicy, page.Headers.GetValues("Content-Security-Policy").Single());
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("data-url=\"openapi/v1.json\"", html, StringComparison.Ordinal);
        Assert.Contains("<script src=\"docs/scalar.js\"></script>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);

        var script = await client.GetAsync("/docs/scalar.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Equal(VendoredSha256, Convert.ToHexStringLower(SHA256.HashData(await script.Content.ReadAsByteArrayAsync())));

        using var conditional = new HttpRequestMessage(HttpMethod.Get, "/docs/scalar.js");
        conditional.Headers.TryAddWithoutValidation("If-None-Match", script.Headers.ETag!.ToString());
        Assert.Equal(HttpStatusCode.NotModified, (await client.SendAsync(conditional)).StatusCode);
    }
}
