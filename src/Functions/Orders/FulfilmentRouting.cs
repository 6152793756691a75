using ThreePL.Domain.Common;

namespace ThreePL.Functions.Orders;

public static class FulfilmentRouting
{
    /// <summary>
    /// Every connection that had the order: the current one, those it was handed back from (deactivation, an overdue
    /// request) and those that rejected it. Re-routing skips all of them, so an order visits each connection at most once.
    /// </summary>
    public static IReadOnlySet<ConnectionId> PreviousConnections(StoredOrder stored)
    {
        var connections = stored.Released.Select(r => r.ConnectionId).Concat(stored.Order.Rejections.Select(r => r.ConnectionId)).ToHashSet();
        if (stored.Order.ConnectionId is { } current)
        {
            connections.Add(current);
        }
        return connections;
    }
}
