using Azure;
using Azure.Data.Tables;
using ThreePL.Domain.Accounts;
using ThreePL.Domain.Common;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Http;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Orders;

/// <summary>
/// <c>GET /v1/orders?updatedSince=</c>: the caller's orders in the order they changed. Each list row of an order is
/// accompanied, in its own partition, by change rows keyed by time (<see cref="TimeKeyedFeed"/>): <c>~u|{ticks}|{orderId}</c>
/// in every list partition and, in a 3PL's, also <c>~c|{connectionId}|{ticks}|{orderId}</c> for one connection. They
/// are written in the same entity-group transaction as the list row (<see cref="WriteAsync"/> is the one place
/// <see cref="OrderIndex"/> writes a list row; an order in its merchant's partition is its own list row there, and
/// <see cref="OrderStore"/> writes its change row with every commit, by <see cref="ChangeRows"/>), which also deletes
/// the order's previous change rows (named in the list row's <c>FeedKeys</c>): a partition holds one change row per
/// order, and a reader meets each order once.
/// Concurrent writes to one list partition (orders of one merchant, or of one 3PL) share transactions
/// (<see cref="PartitionWriter"/>); each keeps its own guard, since a shared transaction that fails is repeated per order.
/// The list rows sort before <c>~</c>, so the plain list never sees change rows.
/// </summary>
public sealed class OrderChangeFeed(OrderStore store, PartitionWriter writer, ReconciliationOptions options, TimeProvider time)
{
    public const string ChangePrefix = "~u|";
    private const string ConnectionPrefix = "~c|";
    private const string FeedKeys = "FeedKeys";
    private const int MaxRekeys = 3;

    /// <summary>Change rows start at <c>~</c>; every list row key sorts before it.</summary>
    public const string ListRowsEnd = "~";

    private static string ConnectionChangePrefix(string connectionId) => ConnectionPrefix + connectionId + "|";

    /// <summary>
    /// Writes a list row (insert when <paramref name="existing"/> is null, else replace under its ETag) with its
    /// change rows in one transaction; a 409/412/404 is the caller's to retry, as for a plain write. A write that
    /// took longer than the bound is repeated under a fresh key time (see <see cref="TimeKeyedFeed"/>).
    /// <paramref name="riders"/> are upserted in the first transaction (<see cref="UsageRows"/>): rows of the same
    /// partition that must be written whenever the list row is.
    /// </summary>
    public async Task WriteAsync(TableEntity projection, TableEntity? existing, CancellationToken cancellationToken, IReadOnlyList<TableEntity>? riders = null)
    {
        var updatedAt = projection.GetDateTimeOffset("UpdatedAt") ?? time.GetUtcNow();
        var keyTime = TimeKeyedFeed.KeyTime(updatedAt, time.GetUtcNow(), options);
        var etag = await CommitAsync(projection, existing?.ETag, Keys(existing), keyTime, cancellationToken, riders).ConfigureAwait(false);
        for (var rekey = 0; rekey < MaxRekeys && TimeKeyedFeed.WrittenTooLate(keyTime, time.GetUtcNow(), options); rekey++)
        {
            keyTime = time.GetUtcNow();
            try
            {
                etag = await CommitAsync(projection, etag, Keys(projection), keyTime, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status404NotFound)
            {
                // A newer sync replaced the row, and with it these change rows, under a key of its own.
                return;
            }
        }
    }

    /// <summary>
    /// Replaces a list row without reading it first, when the caller knows the change rows the row's previous version
    /// wrote (<paramref name="previousKeys"/>, from <see cref="ChangeKeys"/> of the previous order state): the
    /// transaction deletes them, which fails with 404 unless they exist, and they exist only while the list row is at
    /// that previous version, since every list write deletes its predecessor's change rows in the same transaction.
    /// So success means the row was exactly one version behind, and a 404 (a row further behind, newer, rekeyed, or
    /// missing) sends the caller back to the guarded read-and-replace. Returns the row's new ETag. <paramref name="riders"/>
    /// as for <see cref="WriteAsync"/>.
    /// </summary>
    public async Task<ETag> ReplaceBehindAsync(TableEntity projection, IReadOnlyList<string> previousKeys, CancellationToken cancellationToken, IReadOnlyList<TableEntity>? riders = null)
    {
        var updatedAt = projection.GetDateTimeOffset("UpdatedAt") ?? time.GetUtcNow();
        var keyTime = TimeKeyedFeed.KeyTime(updatedAt, time.GetUtcNow(), options);
        var keys = ChangeKeys(projection.PartitionKey, projection.GetString("OrderId")!, projection.GetString("ConnectionId"), keyTime);
        if (previousKeys.Count == 0 || previousKeys.Intersect(keys, StringComparer.Ordinal).Any())
        {
            throw new ArgumentException("The previous change rows must be named and differ from the new ones.", nameof(previousKeys));
        }
        projection[FeedKeys] = string.Join(',', keys);
        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.UpdateReplace, projection, ETag.All) };
        actions.AddRange(previousKeys.Select(key => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(projection.PartitionKey, key), ETag.All)));
        actions.AddRange(ChangeRows(projection, keys));
        actions.AddRange(Upserts(riders));
        var etag = (await writer.CommitAsync(store.Table, actions, cancellationToken).ConfigureAwait(false))[0].GetETag();
        for (var rekey = 0; rekey < MaxRekeys && TimeKeyedFeed.WrittenTooLate(keyTime, time.GetUtcNow(), options); rekey++)
        {
            keyTime = time.GetUtcNow();
            try
            {
                etag = await CommitAsync(projection, etag, Keys(projection), keyTime, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status404NotFound)
            {
                break;
            }
        }
        return etag;
    }

    /// <summary>The change rows a list row in <paramref name="partition"/> has for a change keyed at <paramref name="keyTime"/>.</summary>
    public static IReadOnlyList<string> ChangeKeys(string partition, string orderId, string? connectionId, DateTimeOffset keyTime)
    {
        var keys = new List<string> { TimeKeyedFeed.RowKey(ChangePrefix, keyTime, orderId) };
        if (partition.StartsWith("t|", StringComparison.Ordinal) && connectionId is not null)
        {
            keys.Add(TimeKeyedFeed.RowKey(ConnectionChangePrefix(connectionId), keyTime, orderId));
        }
        return keys;
    }

    /// <summary>The upserts of the change rows <paramref name="keys"/> about the order and version of <paramref name="projection"/>.</summary>
    public static IEnumerable<TableTransactionAction> ChangeRows(TableEntity projection, IEnumerable<string> keys) =>
        keys.Select(key => new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(projection.PartitionKey, key)
        {
            ["OrderId"] = projection.GetString("OrderId"),
            ["Version"] = projection.GetInt64("Version"),
            ["ConnectionId"] = projection.GetString("ConnectionId"),
        }));

    private static IEnumerable<TableTransactionAction> Upserts(IReadOnlyList<TableEntity>? rows) =>
        (rows ?? []).Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r));

    private async Task<ETag> CommitAsync(TableEntity projection, ETag? ifMatch, IReadOnlyList<string> previous, DateTimeOffset keyTime, CancellationToken cancellationToken, IReadOnlyList<TableEntity>? riders = null)
    {
        var keys = ChangeKeys(projection.PartitionKey, projection.GetString("OrderId")!, projection.GetString("ConnectionId"), keyTime);
        projection[FeedKeys] = string.Join(',', keys);
        var actions = new List<TableTransactionAction>
        {
            ifMatch is { } etag
                ? new(TableTransactionActionType.UpdateReplace, projection, etag)
                : new(TableTransactionActionType.Add, projection),
        };
        var deletes = previous.Except(keys, StringComparer.Ordinal)
            .Select(key => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(projection.PartitionKey, key), ETag.All))
            .ToList();
        var changes = ChangeRows(projection, keys).Concat(Upserts(riders)).ToList();
        try
        {
            var responses = await writer.CommitAsync(store.Table, [.. actions, .. deletes, .. changes], cancellationToken).ConfigureAwait(false);
            return responses[0].GetETag();
        }
        catch (TableTransactionFailedException ex) when (ex.Status == StatusCodes.Status404NotFound && ex.FailedTransactionActionIndex is > 0 && deletes.Count > 0)
        {
            // Only this class writes change rows, always with the list row that names them, so a missing one means
            // someone removed it by hand: write without the deletes rather than fail the sync forever.
            var responses = await writer.CommitAsync(store.Table, [.. actions, .. changes], cancellationToken).ConfigureAwait(false);
            return responses[0].GetETag();
        }
    }

    private static IReadOnlyList<string> Keys(TableEntity? row) =>
        row?.GetString(FeedKeys) is { Length: > 0 } keys ? keys.Split(',') : [];

    /// <summary>
    /// A page of the caller's orders changed at or after <paramref name="since"/>, in the order their changes were
    /// recorded, up to the settled horizon. Each order is read and checked as the plain list does; a change row whose
    /// order has moved on is skipped, because the newer change has a row of its own beyond this page's horizon.
    /// </summary>
    public async Task<Http.Page<OrderResponse>> ListAsync(
        Caller caller, DateTimeOffset since, OrderStatus? status, ConnectionId? connection, string? cursor, int limit, CancellationToken cancellationToken)
    {
        string partition;
        string prefix;
        if (caller.Kind == AccountKind.Merchant)
        {
            (partition, prefix) = (OrderIndex.MerchantPartition(caller.AccountId), ChangePrefix);
        }
        else
        {
            (partition, prefix) = (OrderIndex.ThreePlPartition(caller.AccountId), connection is { } c ? ConnectionChangePrefix(c.Value) : ChangePrefix);
        }
        var (rows, next) = await TimeKeyedFeed.PageAsync(store.Table, partition, prefix, since, cursor, limit, time.GetUtcNow(), options, cancellationToken).ConfigureAwait(false);
        var candidates = rows.Where(r => connection is null || r.GetString("ConnectionId") == connection.Value.Value).ToList();
        var orders = await Task.WhenAll(candidates.Select(row => store.GetAsync(OrderId.Parse(row.GetString("OrderId")!), cancellationToken))).ConfigureAwait(false);
        var items = new List<OrderResponse>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < candidates.Count; i++)
        {
            if (orders[i] is { } order && order.Order.Version == candidates[i].GetInt64("Version")
                && ListOrders.IsListed(caller, order, status, connection) && seen.Add(order.Order.Id.Value))
            {
                items.Add(OrderResponse.For(order.Order, OrderViewer.Of(caller, order.Order)));
            }
        }
        return new Http.Page<OrderResponse>(items, next);
    }
}
