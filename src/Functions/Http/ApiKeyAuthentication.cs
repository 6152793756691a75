using System.Security.Cryptography;
using System.Text;
using ThreePL.Domain.Accounts;
using ThreePL.Domain.Connections;
using ThreePL.Functions.ApiKeys;
using ThreePL.Functions.Audit;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Impersonation;

namespace ThreePL.Functions.Http;

/// <summary>
/// Authenticates every <c>/v1</c> request before routing: the operator key for <c>/v1/admin</c>, an API key
/// everywhere else. Unknown, malformed, disabled and deleted keys all get the same 401, so a caller cannot
/// probe which keys exist. Permissions are checked per endpoint by <see cref="Authorization"/>.
/// </summary>
public sealed class ApiKeyAuthentication(
    ApiKeyStore keys,
    ImpersonationStore impersonations,
    ConnectionStore connections,
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
        var caller = token is null ? null
            : token.StartsWith(ImpersonationStore.TokenPrefix, StringComparison.Ordinal) ? await AuthenticateImpersonationAsync(token, context.RequestAborted).ConfigureAwait(false)
            : await AuthenticateAsync(token, context.RequestAborted).ConfigureAwait(false);
        if (caller is null)
        {
            await Unauthorized(context, "A valid, enabled API key is required (Authorization: Bearer <key>).").ConfigureAwait(false);
            return;
        }
        context.Features.Set(caller);
        using (logger.BeginScope(new Dictionary<string, object> { ["AccountId"] = caller.AccountId.Value, ["KeyId"] = caller.KeyId.Value }))
        {
            try
            {
                await next(context).ConfigureAwait(false);
            }
            finally
            {
                if (caller.OnBehalfOf is not null)
                {
                    await RecordImpersonatedRequestAsync(caller, context).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>
    /// A "log in to brand" token acts as the brand, limited to its connection, while that connection is active
    /// and the grant has not expired: deactivating or disconnecting revokes it at once.
    /// </summary>
    private async Task<Caller?> AuthenticateImpersonationAsync(string token, CancellationToken cancellationToken)
    {
        if (!ImpersonationStore.TryParse(token, out var connectionId, out var grantId, out var secret)
            || await impersonations.GetAsync(connectionId, grantId, cancellationToken).ConfigureAwait(false) is not { } grant
            || !CryptographicOperations.FixedTimeEquals(ApiKeySecret.Hash(secret), grant.SecretHash)
            || grant.ExpiresAt <= time.GetUtcNow()
            || await connections.GetAsync(connectionId, cancellationToken).ConfigureAwait(false) is not { Connection.Status: ConnectionStatus.Active })
        {
            return null;
        }
        return new Caller(grant.BrandAccountId, AccountKind.Merchant, grant.Id, PermissionSet.Parse(string.Join(' ', StartImpersonation.Permissions)), connectionId)
        {
            OnBehalfOf = grant.ThreePlAccountId,
        };
    }

    /// <summary>Every request made on behalf of a brand is audited, whatever it did, with its outcome.</summary>
    private async Task RecordImpersonatedRequestAsync(Caller caller, HttpContext context)
    {
        var detail = System.Text.Json.JsonSerializer.Serialize(new { method = context.Request.Method, path = context.Request.Path.Value, status = context.Response.StatusCode });
        var audit = AuditRecord.Create(time.GetUtcNow(), AuditActions.ImpersonatedRequest, new AuditActor(caller.AccountId, caller.KeyId, caller.OnBehalfOf), caller.Scope, after: detail);
        try
        {
            await impersonations.RecordRequestAsync(audit, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is Azure.RequestFailedException or HttpRequestException)
        {
            logger.LogError(ex, "Could not audit an impersonated request {Method} {Path}", context.Request.Method, context.Request.Path);
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
