using System.Collections.Concurrent;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Orders;

/// <summary>
/// Which connections routing has to look at for a merchant. The list of a merchant's connection ids changes only when
/// a connection is created, so it is served from a cache bounded like the routing rules
/// (<see cref="RoutingStore.MaxRulesLifetime"/>, setting <c>ThreePL:Orders:RulesCacheLifetime</c>): a connection
/// created on another instance is considered for orders routed from at most that long after on (at once on the
/// instance that created it). The state of each connection is never cached: routing reads it fresh, except for
/// connections it has seen in a terminal state (declined, cancelled, expired, disconnected), which can never receive
/// orders again, so a merchant's old connections stop costing a read per order.
/// </summary>
public sealed class MerchantConnections
{
    private const int MaxTerminalRemembered = 100_000;

    private readonly ConnectionStore _connections;
    private readonly StaleCache<AccountId, IReadOnlyList<ConnectionId>> _ids;
    private readonly ConcurrentDictionary<ConnectionId, bool> _terminal = new();

    public MerchantConnections(ConnectionStore connections, LocalChanges changes, TimeProvider time, IConfiguration configuration)
    {
        _connections = connections;
        _ids = new(time, StaleCache<AccountId, IReadOnlyList<ConnectionId>>.LifetimeFrom(configuration, "ThreePL:Orders:RulesCacheLifetime", RoutingStore.MaxRulesLifetime));
        // The notice names a connection, not its merchant; connections change rarely, so forgetting every list is cheap.
        changes.ConnectionChanged += _ => _ids.Clear();
    }

    /// <summary>The merchant's connections that are not known to be terminal, each as stored now.</summary>
    public async Task<IReadOnlyList<StoredConnection>> CurrentAsync(AccountId merchant, CancellationToken cancellationToken)
    {
        var ids = await _ids.GetAsync(merchant, token => ListAllAsync(merchant, token), cancellationToken).ConfigureAwait(false) ?? [];
        var rows = await Task.WhenAll(ids.Where(id => !_terminal.ContainsKey(id)).Select(id => _connections.GetAsync(id, cancellationToken))).ConfigureAwait(false);
        var current = new List<StoredConnection>();
        foreach (var row in rows)
        {
            if (row is null)
            {
                continue;
            }
            if (row.Connection.Status.IsTerminal())
            {
                if (_terminal.Count >= MaxTerminalRemembered)
                {
                    _terminal.Clear();
                }
                _terminal[row.Connection.Id] = true;
            }
            current.Add(row);
        }
        return current;
    }

    private async Task<IReadOnlyList<ConnectionId>?> ListAllAsync(AccountId merchant, CancellationToken cancellationToken)
    {
        var all = new List<ConnectionId>();
        string? cursor = null;
        do
        {
            var (ids, next) = await _connections.ListIdsAsync(merchant, cursor, 1000, cancellationToken).ConfigureAwait(false);
            all.AddRange(ids);
            cursor = next;
        }
        while (cursor is not null);
        return all;
    }
}
