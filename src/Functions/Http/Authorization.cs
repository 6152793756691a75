using ThreePL.Domain.Accounts;

namespace ThreePL.Functions.Http;

/// <summary>Per-endpoint permission checks, declared where the endpoint is mapped.</summary>
public static class Authorization
{
    public static TBuilder RequirePermission<TBuilder>(this TBuilder builder, string permission)
        where TBuilder : IEndpointConventionBuilder
    {
        if (!PermissionSet.Known.Contains(permission))
        {
            throw new ArgumentException($"Unknown permission '{permission}'.", nameof(permission));
        }
        builder.AddEndpointFilter(async (context, next) =>
        {
            var caller = context.HttpContext.Features.Get<Caller>();
            if (caller is null)
            {
                return Problems.Create(StatusCodes.Status401Unauthorized, "unauthorized", "Authentication is required.");
            }
            return caller.Permissions.Allows(permission)
                ? await next(context).ConfigureAwait(false)
                : Problems.Forbidden("missing_permission", $"This API key lacks the '{permission}' permission.");
        });
        return builder;
    }

    public static TBuilder RequireOperator<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.AddEndpointFilter(async (context, next) =>
            context.HttpContext.Features.Get<OperatorCaller>() is null
                ? Problems.Create(StatusCodes.Status401Unauthorized, "unauthorized", "A valid operator key is required.")
                : await next(context).ConfigureAwait(false));
        return builder;
    }

    /// <summary>The authenticated caller; endpoints behind <see cref="RequirePermission"/> always have one.</summary>
    public static Caller GetCaller(this HttpContext context) =>
        context.Features.Get<Caller>() ?? throw new InvalidOperationException("No authenticated caller on this endpoint.");
}
