using ThreePL.Functions.Http;

namespace ThreePL.Functions.ApiKeys;

public static class ApiKeysApi
{
    public static IEndpointRouteBuilder MapApiKeysApi(this IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup("/v1/api-keys").WithTags("API keys").RequirePermission("keys:manage");
        keys.MapPost("", (HttpContext context, CreateApiKeyRequest request, CreateApiKey handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), request, ct)).WithName("CreateApiKey");
        keys.MapGet("", (HttpContext context, string? cursor, int? limit, ListApiKeys handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), cursor, limit, ct)).WithName("ListApiKeys");
        keys.MapMethods("/{id}", ["PATCH"], (HttpContext context, string id, UpdateApiKeyRequest request, UpdateApiKey handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), id, request, ct)).WithName("UpdateApiKey");
        keys.MapDelete("/{id}", (HttpContext context, string id, DeleteApiKey handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), id, ct)).WithName("DeleteApiKey");
        return app;
    }
}
