using System.Security.Cryptography;

namespace ThreePL.Functions.Http;

/// <summary>
/// The human-readable API reference: <c>GET /docs</c> is a page that renders <c>/openapi/v1.json</c> with Scalar's
/// standalone bundle, vendored into this assembly (<c>Http/ApiReference</c>) and served at <c>/docs/scalar.js</c>, so
/// the page loads nothing from outside hosts. Public, like the document it renders.
/// </summary>
public sealed class ApiReferenceFunctions(HttpApi api)
{
    public const string ScriptResourceName = "ThreePL.ApiReference.scalar-standalone.js";

    /// <summary>
    /// Only this host's script, the document (fetched) and Scalar's own inline styles; fonts are the system's
    /// (<c>withDefaultFonts: false</c>), the "test request" client is hidden (it would send requests through Scalar's proxy).
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    // Relative URLs: the page works under any route prefix or public base URL.
    private const string Page = """
        <!doctype html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <meta name="viewport" content="width=device-width, initial-scale=1">
          <title>ThreePL Connect API reference</title>
        </head>
        <body>
          <noscript>The API reference needs JavaScript. The OpenAPI document itself is at <a href="openapi/v1.json">openapi/v1.json</a>.</noscript>
          <script id="api-reference" data-url="openapi/v1.json" data-configuration='{"withDefaultFonts":false,"hideClientButton":true,"hideTestRequestButton":true,"showDeveloperTools":"never","telemetry":false,"agent":{"disabled":true},"mcp":{"disabled":true}}'></script>
          <script src="docs/scalar.js"></script>
        </body>
        </html>
        """;

    private static readonly Lazy<(byte[] Bytes, string ETag)> s_script = new(LoadScript);

    [Function("ApiReference")]
    public Task<IResult> ApiReferenceAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "docs")] HttpRequest request) =>
        api.RunPublicAsync(request, _ =>
        {
            var headers = request.HttpContext.Response.Headers;
            headers["Content-Security-Policy"] = ContentSecurityPolicy;
            headers["X-Content-Type-Options"] = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            return Task.FromResult(Results.Content(Page, "text/html; charset=utf-8"));
        });

    [Function("ApiReferenceScript")]
    public Task<IResult> ApiReferenceScriptAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "docs/scalar.js")] HttpRequest request) =>
        api.RunPublicAsync(request, _ =>
        {
            var (bytes, etag) = s_script.Value;
            var headers = request.HttpContext.Response.Headers;
            headers["X-Content-Type-Options"] = "nosniff";
            headers.CacheControl = "public, max-age=3600";
            headers.ETag = etag;
            return Task.FromResult(request.Headers.IfNoneMatch.ToString() == etag
                ? Results.StatusCode(StatusCodes.Status304NotModified)
                : Results.Bytes(bytes, "text/javascript; charset=utf-8"));
        });

    /// <summary>The vendored bundle and its ETag (its SHA-256).</summary>
    public static (byte[] Bytes, string ETag) LoadScript()
    {
        using var stream = typeof(ApiReferenceFunctions).Assembly.GetManifestResourceStream(ScriptResourceName)
            ?? throw new InvalidOperationException($"The API reference script {ScriptResourceName} is not embedded.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var bytes = buffer.ToArray();
        return (bytes, $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))}\"");
    }
}
