using ThreePL.Functions.Http;

namespace ThreePL.Functions.ApiKeys;

public sealed class ApiKeyFunctions(HttpApi api, CreateApiKey create, ListApiKeys list, UpdateApiKey update, DeleteApiKey delete)
{
    private static readonly Access KeysManage = Access.Requires("keys:manage", ScopedCallers.Filtered);

    [Function(nameof(CreateApiKey))]
    public Task<IResult> CreateApiKeyAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/api-keys")] HttpRequest request) =>
        api.RunAsync(request, KeysManage, (Caller caller, CreateApiKeyRequest body, CancellationToken ct) => create.HandleAsync(caller, body, ct));

    [Function(nameof(ListApiKeys))]
    public Task<IResult> ListApiKeysAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/api-keys")] HttpRequest request) =>
        api.RunAsync(request, KeysManage, (Caller caller, CancellationToken ct) =>
            list.HandleAsync(caller, Query.Text(request, "cursor"), Query.Int(request, "limit"), ct));

    [Function(nameof(UpdateApiKey))]
    public Task<IResult> UpdateApiKeyAsync([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "v1/api-keys/{id}")] HttpRequest request, string id) =>
        api.RunAsync(request, KeysManage, (Caller caller, UpdateApiKeyRequest body, CancellationToken ct) => update.HandleAsync(caller, id, body, ct));

    [Function(nameof(DeleteApiKey))]
    public Task<IResult> DeleteApiKeyAsync([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/api-keys/{id}")] HttpRequest request, string id) =>
        api.RunAsync(request, KeysManage, (Caller caller, CancellationToken ct) => delete.HandleAsync(caller, id, ct));
}
