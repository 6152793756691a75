using ThreePL.Domain.Common;
using ThreePL.Functions.ApiKeys;

namespace ThreePL.Functions.Connections;

public sealed class ConnectionMembership(ConnectionStore store) : IConnectionMembership
{
    public async Task<bool> IsPartyAsync(AccountId account, ConnectionId connection, CancellationToken cancellationToken) =>
        await store.GetAsync(connection, cancellationToken).ConfigureAwait(false) is { } stored && stored.Connection.PartyOf(account) is not null;
}
