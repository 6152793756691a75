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
/// Authenticates a request for <see cref="HttpApi"/>: the operator key, an API key, or a "log in to brand"
/// token. Unknown, malformed, disabled and deleted keys all get the same 401, so a caller cannot probe which
/// keys exist.
/// </summary>
public sealed class Authenticator(
    ApiKeyStore keys,
    ImpersonationStore impersonations,
    ConnectionStore connections,
    IConfiguration configuration,
    TimeProvider time,
    ILogger<Authenticator> logger)
{
    /// <summary>Recording use on every request would double the cost of a read; a minute's precision is enough.</summary>
    private static readonly TimeSpan LastUsedPrecision = TimeSpan.FromMinutes(1);

    public bool IsOperator(HttpRequest request)
    {
        var token = BearerToken(request);
        var configured = configuration["ThreePL:AdminKey"];
        return token is not null && !string.IsNullOrEmpty(configured) && CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(token)),
            SHA256.HashData(Encoding.UTF8.GetBytes(configured)));
    }

    /// <summary>The caller behind the request's key or brand token, or null.</summary>
    public async Task<Caller?> AuthenticateAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var token = BearerToken(request);
        return token is null ? null
            : token.StartsWith(ImpersonationStore.TokenPrefix, StringComparison.Ordinal) ? await AuthenticateImpersonationAsync(token, cancellationToken).ConfigureAwait(false)
            : await AuthenticateKeyAsync(token, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every request made on behalf of a brand is audited, whatever it did, with its outcome.</summary>
    public async Task RecordImpersonatedRequestAsync(Caller caller, HttpRequest request, int status)
    {
        var detail = System.Text.Json.JsonSerializer.Serialize(new { method = request.Method, path = request.Path.Value, status });
        var audit = AuditRecord.Create(time.GetUtcNow(), AuditActions.ImpersonatedRequest, new AuditActor(caller.AccountId, caller.KeyId, caller.OnBehalfOf), caller.Scope, after: detail);
        try
        {
            await impersonations.RecordRequestAsync(audit, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is Azure.RequestFailedException or HttpRequestException || Infrastructure.TransientFailure.Is(ex))
        {
            logger.LogError(ex, "Could not audit an impersonated request {Method} {Path}", request.Method, request.Path);
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

    private async Task<Caller?> AuthenticateKeyAsync(string token, CancellationToken cancellationToken)
    {
        if (!ApiKeySecret.TryParse(token, out var accountId, out var keyId, out var secret))
        {
            return null;
        }
        var key = await keys.GetForAuthenticationAsync(accountId, keyId, cancellationToken).ConfigureAwait(false);
        if (key is null || !ApiKeySecret.Matches(secret, key.SecretHash) || !key.Enabled)
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

    private static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        return header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) && header.Length > scheme.Length && header.Length < 512
            ? header[scheme.Length..].Trim()
            : null;
    }
}
