using System.Security.Cryptography;
using System.Text;
using ThreePL.Functions.ApiKeys;

namespace ThreePL.Functions.Http;

/// <summary>
/// Authenticates every <c>/v1</c> request before routing: the operator key for <c>/v1/admin</c>, an API key
/// everywhere else. Unknown, malformed, disabled and deleted keys all get the same 401, so a caller cannot
/// probe which keys exist. Permissions are checked per endpoint by <see cref="Authorization"/>.
/// </summary>
public sealed class ApiKeyAuthentication(
    ApiKeyStore keys,
    IConfiguration configuration,
    TimeProvider time,
    ILogger<ApiKeyAuthentication> logger) : IMiddleware
{
    /// <summary>Recording use on every request would double the cost of a read; a minute's precision is enough.</summary>
    private static readonly TimeSpan LastUsedPrecision = TimeSpan.FromMinutes(1);

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (!context.Request.Path.StartsWithSegments("/v1"))
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        var token = BearerToken(context.Request);
        if (context.Request.Path.StartsWithSegments("/v1/admin"))
        {
            if (token is null || !IsOperatorKey(token))
            {
                await Unauthorized(context, "A valid operator key is required.").ConfigureAwait(false);
                return;
            }
            context.Features.Set(new OperatorCaller());
            await next(context).ConfigureAwait(false);
            return;
        }
        var caller = token is null ? null : await AuthenticateAsync(token, context.RequestAborted).ConfigureAwait(false);
        if (caller is null)
        {
            await Unauthorized(context, "A valid, enabled API key is required (Authorization: Bearer <key>).").ConfigureAwait(false);
            return;
        }
        context.Features.Set(caller);
        using (logger.BeginScope(new Dictionary<string, object> { ["AccountId"] = caller.AccountId.Value, ["KeyId"] = caller.KeyId.Value }))
        {
            await next(context).ConfigureAwait(false);
        }
    }

    private async Task<Caller?> AuthenticateAsync(string token, CancellationToken cancellationToken)
    {
        if (!ApiKeySecret.TryParse(token, out var accountId, out var keyId, out var secret))
        {
            return null;
        }
        var found = await keys.GetAsync(accountId, keyId, cancellationToken).ConfigureAwait(false);
        if (found is not { Key: var key } || !ApiKeySecret.Matches(secret, key.SecretHash) || !key.Enabled)
        {
            return null;
        }
        var now = time.GetUtcNow();
        if (key.LastUsedAt is null || now - key.LastUsedAt >= LastUsedPrecision)
        {
            await keys.TouchAsync(accountId, keyId, now, cancellationToken).ConfigureAwait(false);
        }
        return new Caller(key.AccountId, key.AccountKind, key.Id, key.Permissions, key.ConnectionId);
    }

    private bool IsOperatorKey(string token)
    {
        var configured = configuration["ThreePL:AdminKey"];
        if (string.IsNullOrEmpty(configured))
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(token)),
            SHA256.HashData(Encoding.UTF8.GetBytes(configured)));
    }

    private static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        return header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) && header.Length > scheme.Length && header.Length < 512
            ? header[scheme.Length..].Trim()
            : null;
    }

    private static async Task Unauthorized(HttpContext context, string detail)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer";
        await Problems.Create(StatusCodes.Status401Unauthorized, "unauthorized", "Authentication is required.", detail)
            .ExecuteAsync(context).ConfigureAwait(false);
    }
}
