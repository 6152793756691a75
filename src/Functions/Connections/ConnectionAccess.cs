using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Audit;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Connections;

/// <summary>
/// Object-level authorisation for connections: a connection exists for a caller only when the caller's
/// account is a party to it and the caller's key scope covers it. Everything else is 404, never 403.
/// </summary>
public sealed class ConnectionAccess(ConnectionStore store)
{
    public async Task<StoredConnection?> FindAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        if (!ConnectionId.TryParse(id, out var connectionId) || !caller.CanSee(connectionId))
        {
            return null;
        }
        var stored = await store.GetAsync(connectionId, cancellationToken).ConfigureAwait(false);
        return stored is not null && stored.Connection.PartyOf(caller.AccountId) is not null ? stored : null;
    }

    public static AuditActor Actor(Caller caller) => new(caller.AccountId, caller.KeyId, caller.OnBehalfOf);

    public static ProblemHttpResult Problem(DomainError error, Connection connection) =>
        DomainProblems.For(error, ConnectionStatusNames.ToWire(connection.Status));
}
