using Azure;
using Azure.Data.Tables;
using ThreePL.Domain.Common;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Orders;

/// <summary>
/// The list rows of an order that are projections of it: <c>t|{threePlId}</c> / <c>{connectionId}|{orderId}</c>, and
/// <c>m|{merchantId}</c> / <c>{orderId}</c> for an order stored apart (an id of the older form; an order in its
/// merchant's partition is its own list row, see <see cref="OrderStore"/>), each holding a projection (status,
/// connection, version) of the order row.
/// <see cref="SyncAsync"/> brings them in line with a committed order. It is idempotent and guarded by the
/// order's version (a row already at this version or later is left alone; writes carry the read ETag), so the
/// command's own call, its follow-up's call and any concurrent call can run in any order and the newest
/// projection wins. Rows of connections the order was handed back from are deleted under the same guard.
/// </summary>
public sealed class OrderIndex(OrderStore store, OrderChangeFeed changes)
{
    private const int MaxAttempts = 5;

    public static string MerchantPartition(AccountId merchant) => "m|" + merchant.Value;

    public static string ThreePlPartition(AccountId threePl) => "t|" + threePl.Value;

    public static string ThreePlRowKey(ConnectionId connection, OrderId order) => connection.Value + "|" + order.Value;

    /// <summary>RowKey bounds of one connection's rows in a 3PL partition.</summary>
    public static (string From, string To) ConnectionRange(ConnectionId connection) => (connection.Value + "|", connection.Value + "}");

    /// <summary>Re-reads the order and syncs its rows (the entry point of a follow-up or a hand-back repair).</summary>
    public async Task SyncAsync(OrderId id, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(id, cancellationToken).ConfigureAwait(false) is { } stored)
        {
            await SyncAsync(stored, expectNew: false, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <param name="stored">The committed order.</param>
    /// <param name="expectNew">A hint that the rows were just created or newly delegated, so an insert is tried
    /// first (one operation instead of a read and a write).</param>
    /// <param name="cancellationToken">Cancels the sync.</param>
    /// <param name="previous">The order as the command read it, when it made <paramref name="stored"/> from it: each
    /// row is then first replaced without a read, on the assumption that it is at that version
    /// (<see cref="OrderChangeFeed.ReplaceBehindAsync"/>); where it is not, the guarded read-and-replace follows.</param>
    public async Task SyncAsync(StoredOrder stored, bool expectNew, CancellationToken cancellationToken, ListedVersion? previous = null)
    {
        var order = stored.Order;
        var behind = previous is { } before && before.Version == order.Version - 1 && before.UpdatedAt < order.UpdatedAt
            ? before
            : null;
        var tasks = new List<Task>();
        if (order.Id.Merchant is null)
        {
            // An order stored apart has a projection in its merchant's partition; one stored there is its own list row.
            var merchantPartition = MerchantPartition(order.MerchantAccountId);
            tasks.Add(UpsertAsync(Projection(merchantPartition, order.Id.Value, stored), expectNew && order.Version == 1,
                behind is null ? null : OrderChangeFeed.ChangeKeys(merchantPartition, order.Id.Value, null, behind.UpdatedAt), cancellationToken));
        }
        if (order.ConnectionId is { } connection && stored.ThreePlAccountId is { } threePl)
        {
            var threePlPartition = ThreePlPartition(threePl);
            var sameRowBefore = behind?.ConnectionId == connection && behind.ThreePlAccountId == threePl;
            // The usage lines billed to the 3PL ride with every write of its list row (UsageRows): each sync that writes
            // the row, after the command, by its follow-up or after a crash, writes them, so the row at a version
            // proves the lines of every shipment up to it are there.
            tasks.Add(UpsertAsync(Projection(threePlPartition, ThreePlRowKey(connection, order.Id), stored), expectNew,
                sameRowBefore ? OrderChangeFeed.ChangeKeys(threePlPartition, order.Id.Value, connection.Value, behind!.UpdatedAt) : null, cancellationToken,
                UsageRows.WithThreePlListRow(stored)));
        }
        foreach (var released in stored.Released.Where(r => r.ConnectionId != order.ConnectionId))
        {
            tasks.Add(DeleteAsync(ThreePlPartition(released.ThreePlAccountId), ThreePlRowKey(released.ConnectionId, order.Id), order.Version, cancellationToken));
        }
        await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    private static TableEntity Projection(string partition, string rowKey, StoredOrder stored) => new(partition, rowKey)
    {
        ["OrderId"] = stored.Order.Id.Value,
        ["Status"] = OrderStatusNames.ToWire(stored.Order.Status),
        ["ConnectionId"] = stored.Order.ConnectionId?.Value,
        ["MerchantAccountId"] = stored.Order.MerchantAccountId.Value,
        ["Version"] = stored.Order.Version,
        ["UpdatedAt"] = stored.Order.UpdatedAt,
    };

    private async Task UpsertAsync(TableEntity projection, bool tryInsertFirst, IReadOnlyList<string>? previousKeys, CancellationToken cancellationToken, IReadOnlyList<TableEntity>? riders = null)
    {
        var version = projection.GetInt64("Version")!.Value;
        if (!tryInsertFirst && previousKeys is not null)
        {
            try
            {
                await changes.ReplaceBehindAsync(projection, previousKeys, cancellationToken, riders).ConfigureAwait(false);
                return;
            }
            catch (RequestFailedException ex) when (ex.Status is StatusCodes.Status404NotFound or StatusCodes.Status409Conflict or StatusCodes.Status412PreconditionFailed)
            {
                // Not one version behind (or not there): read it and compare versions.
            }
        }
        var insertFirst = tryInsertFirst;
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            TableEntity? existing = null;
            if (!insertFirst)
            {
                existing = await store.Table.FindAsync(projection.PartitionKey, projection.RowKey, cancellationToken).ConfigureAwait(false);
                if (existing is not null && ((existing.GetInt64("Version") ?? 0) >= version || OrderStore.IsOrderRow(existing)))
                {
                    // Newer, or an order of the merchant-partition form under the same key (a re-send of an order
                    // received before the change of id form whose list row was not written yet): never overwritten.
                    return;
                }
            }
            insertFirst = false;
            try
            {
                // The reconciliation feed's change rows ride in the same transaction (docs/orders-storage.md).
                await changes.WriteAsync(projection, existing, cancellationToken, riders).ConfigureAwait(false);
                return;
            }
            catch (RequestFailedException ex) when (ex.Status is StatusCodes.Status409Conflict or StatusCodes.Status412PreconditionFailed or StatusCodes.Status404NotFound)
            {
                // Someone else wrote the row since we looked: read again and compare versions.
            }
        }
        throw new InvalidOperationException($"Index row {projection.PartitionKey}/{projection.RowKey} kept changing; it is synced again when the command's message comes back.");
    }

    private async Task DeleteAsync(string partition, string rowKey, long version, CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var existing = await store.Table.FindAsync(partition, rowKey, cancellationToken).ConfigureAwait(false);
            if (existing is null || (existing.GetInt64("Version") ?? 0) > version)
            {
                return;
            }
            try
            {
                await store.Table.DeleteEntityAsync(partition, rowKey, existing.ETag, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (RequestFailedException ex) when (ex.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status404NotFound)
            {
            }
        }
    }
}

/// <summary>What an order's list rows said at one version: enough to name the change rows they had then.</summary>
public sealed record ListedVersion(long Version, DateTimeOffset UpdatedAt, ConnectionId? ConnectionId, AccountId? ThreePlAccountId)
{
    /// <summary>Taken before a command decides: the aggregate changes in place.</summary>
    public static ListedVersion Of(StoredOrder stored) =>
        new(stored.Order.Version, stored.Order.UpdatedAt, stored.Order.ConnectionId, stored.ThreePlAccountId);
}
