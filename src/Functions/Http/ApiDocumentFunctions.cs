using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ThreePL.Functions.Http;

/// <summary>
/// The OpenAPI document, a reviewed contract file (<c>Http/OpenApi/v1.json</c>) that a test holds against
/// the functions the Worker SDK lists in <c>functions.metadata</c>: every documented operation has exactly one
/// function and every HTTP function under <c>v1/</c> is documented. <c>servers</c> is
/// <c>ThreePL:PublicBaseUrl</c>, never the request's Host.
/// </summary>
public sealed class ApiDocumentFunctions(HttpApi api, IConfiguration configuration)
{
    public const string ResourceName = "ThreePL.OpenApi.v1.json";

    [Function("OpenApiDocument")]
    public Task<IResult> OpenApiDocumentAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "openapi/v1.json")] HttpRequest request) =>
        api.RunPublicAsync(request, _ =>
        {
            var document = Load();
            var server = configuration["ThreePL:PublicBaseUrl"] ?? AppSetup.DefaultUrl;
            document["servers"] = new JsonArray(new JsonObject { ["url"] = server });
            return Task.FromResult(Results.Text(document.ToJsonString(), "application/json"));
        });

    /// <summary>The committed document, without <c>servers</c>.</summary>
    public static JsonObject Load()
    {
        using var stream = typeof(ApiDocumentFunctions).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The OpenAPI document {ResourceName} is not embedded.");
        return JsonNode.Parse(stream)?.AsObject() ?? throw new InvalidOperationException("The OpenAPI document is empty.");
    }
}

/// <summary>
/// Any other path under <c>v1/</c>: authenticated like the rest (so the API's shape is not probed without a
/// key), then 405 with <c>Allow</c> when the document has the path with other methods, else 404. Literal and
/// parameter routes of the real functions take precedence over this catch-all in both hosts.
/// </summary>
public sealed class UnknownRouteFunctions(HttpApi api)
{
    private static readonly Lazy<IReadOnlyList<(Regex Path, string[] Methods)>> s_paths = new(DocumentedPaths);

    [Function("UnknownRoute")]
    public Task<IResult> UnknownRouteAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", "put", "patch", "delete", Route = "v1/{*path}")] HttpRequest request) =>
        api.RunAsync(request, Access.AnyKey(ScopedCallers.Filtered), (Caller _, CancellationToken _) =>
        {
            var path = request.Path.Value ?? "";
            var allowed = s_paths.Value.Where(p => p.Path.IsMatch(path)).SelectMany(p => p.Methods).Distinct().ToArray();
            if (allowed.Length == 0)
            {
                return Task.FromResult(Problems.Create(StatusCodes.Status404NotFound, "not_found", "No such endpoint."));
            }
            request.HttpContext.Response.Headers.Allow = string.Join(", ", allowed);
            return Task.FromResult(Problems.Create(StatusCodes.Status405MethodNotAllowed, "method_not_allowed", "The method is not allowed on this endpoint.",
                $"Allowed: {string.Join(", ", allowed)}."));
        });

    private static IReadOnlyList<(Regex Path, string[] Methods)> DocumentedPaths() =>
        (ApiDocumentFunctions.Load()["paths"]?.AsObject() ?? [])
            .Select(p => (
                new Regex("^" + Regex.Replace(Regex.Escape(p.Key), @"\\\{[^}]+\}", "[^/]+") + "$", RegexOptions.CultureInvariant),
                p.Value!.AsObject().Select(m => m.Key.ToUpperInvariant()).ToArray()))
            .ToList();
}
