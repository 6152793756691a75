using System.Text.Json.Nodes;

namespace ThreePL.Functions.Http;

/// <summary>
/// The OpenAPI document, a reviewed contract file (<c>Http/OpenApi/v1.json</c>) that a test holds against
/// the functions the Worker SDK lists in <c>functions.metadata</c>: every documented operation has exactly one
/// function and every HTTP function under <c>v1/</c> is documented. <c>servers</c> is
/// <c>ThreePL:PublicBaseUrl</c>, never the request's Host. There is no catch-all function for the rest: the Functions
/// host tries HTTP routes in function-name order and takes the first match, so a <c>v1/{*path}</c> function would take
/// the requests of every function whose name sorts after it (it took <c>PATCH v1/api-keys/{id}</c> and
/// <c>PATCH v1/connections/{id}/settings</c>); a path or method no function has gets the host's bare 404 in both hosts.
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
