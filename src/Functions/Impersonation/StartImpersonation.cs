using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Accounts;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Audit;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Impersonation;

public sealed record ImpersonationResponse(string Token, DateTimeOffset ExpiresAt, string BrandAccountId, IReadOnlyCollection<string> Permissions);

/// <summary>
/// Outvio's "Log in to brand": the 3PL of an active connection gets a short-lived token that acts inside the
/// brand's account, limited to that connection and to <see cref="Permissions"/> — never keys, billing,
/// webhooks or other connections. Deactivating or disconnecting the connection revokes it at once.
/// </summary>
public sealed class StartImpersonation(ConnectionAccess access, ImpersonationStore store, IConfiguration configuration, TimeProvider time)
{
    public static readonly string[] Permissions = ["connections:read", "connections:write", "orders:read", "orders:write", "inventory:read"];

    public async Task<Results<Created<ImpersonationResponse>, ProblemHttpResult>> HandleAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        if (caller.OnBehalfOf is not null)
        {
            return Problems.Forbidden("impersonation_not_allowed", "An impersonation token cannot start another impersonation.");
        }
        var found = await access.FindAsync(caller, id, cancellationToken).ConfigureAwait(false);
        if (found is null)
        {
            return Problems.NotFound("connection");
        }
        var connection = found.Connection;
        if (caller.Kind != AccountKind.ThreePl || connection.ThreePlAccountId != caller.AccountId)
        {
            return Problems.Forbidden("threepl_only", "Only the 3PL of a connection logs in to its brand.");
        }
        if (connection.Status != ConnectionStatus.Active)
        {
            return Problems.Conflict("connection_not_active", "Log in to brand needs an active connection.",
                new Dictionary<string, object?> { ["currentStatus"] = ConnectionStatusNames.ToWire(connection.Status) });
        }
        var now = time.GetUtcNow();
        var ttl = configuration.GetValue<TimeSpan?>("ThreePL:ImpersonationTtl") ?? TimeSpan.FromMinutes(15);
        var grantId = ApiKeyId.New();
        var (token, hash) = ImpersonationStore.NewToken(connection.Id, grantId);
        var grant = new ImpersonationGrant(connection.Id, grantId, caller.AccountId, connection.MerchantAccountId, hash, now + ttl);
        var audit = AuditRecord.Create(now, AuditActions.ImpersonationStarted, ConnectionAccess.Actor(caller), connection.Id,
            after: $"{{\"grantId\":\"{grantId}\",\"expiresAt\":\"{grant.ExpiresAt:O}\"}}");
        await store.AddAsync(grant, audit, cancellationToken).ConfigureAwait(false);
        return TypedResults.Created($"/v1/connections/{connection.Id}", new ImpersonationResponse(token, grant.ExpiresAt, connection.MerchantAccountId.Value, Permissions));
    }
}
