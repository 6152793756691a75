using ThreePL.Functions.Http;

namespace ThreePL.Functions.Accounts;

public sealed class AccountFunctions(HttpApi api, CreateAccount create, GetAccount get)
{
    [Function(nameof(CreateAccount))]
    public Task<IResult> CreateAccountAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/admin/accounts")] HttpRequest request) =>
        api.RunOperatorAsync<CreateAccountRequest, IResult>(request, async (body, ct) => await create.HandleAsync(body, ct).ConfigureAwait(false));

    /// <summary>Any authenticated key may read its own account, whatever its permissions.</summary>
    [Function(nameof(GetAccount))]
    public Task<IResult> GetAccountAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/account")] HttpRequest request) =>
        api.RunAsync(request, Access.AnyKey(ScopedCallers.Filtered), (Caller caller, CancellationToken ct) => get.HandleAsync(caller, ct));
}
