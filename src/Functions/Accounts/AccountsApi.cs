using ThreePL.Functions.Http;

namespace ThreePL.Functions.Accounts;

public static class AccountsApi
{
    public static IEndpointRouteBuilder MapAccountsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/admin/accounts", (CreateAccountRequest request, CreateAccount handler, CancellationToken ct) => handler.HandleAsync(request, ct))
            .RequireOperator().WithTags("Admin").WithName("CreateAccount");
        app.MapGet("/v1/account", (HttpContext context, GetAccount handler, CancellationToken ct) => handler.HandleAsync(context.GetCaller(), ct))
            .AddEndpointFilter(RequireAnyKey).WithTags("Accounts").WithName("GetAccount");
        return app;
    }

    /// <summary>Any authenticated key may read its own account, whatever its permissions.</summary>
    private static async ValueTask<object?> RequireAnyKey(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        context.HttpContext.Features.Get<Caller>() is null
            ? Problems.Create(StatusCodes.Status401Unauthorized, "unauthorized", "Authentication is required.")
            : await next(context).ConfigureAwait(false);
}
