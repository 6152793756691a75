using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Orders;

/// <summary>
/// Table <c>orders</c>. Partitions, and why (docs/orders-storage.md has the full story and the costs):
/// <list type="bullet">
/// <item><c>m|{merchantId}</c>: the merchant's orders and its list in one. RowKey <c>{own id}</c> (the id without its
/// merchant part, <see cref="OrderId.Own"/>) is the order itself, which is also its merchant's list row;
/// <c>~h|{own id}|{version}</c> one immutable history row per change (the last row of a change carries the messages
/// it causes); <c>~r|{own id}|{message}</c> the marker intake writes for its routing request; <c>~b|{month}|…</c> the
/// usage lines billed to the merchant (<see cref="UsageRows"/>); and the order's change
/// row of <c>GET /v1/orders?updatedSince=</c> (<see cref="OrderChangeFeed"/>). So a change, its history, its
/// messages and the merchant's list and change rows commit in one transaction. The order id is derived from
/// (merchant, externalId) and names the merchant (<see cref="OrderId.Merchant"/>), so inserting the order row is
/// itself the idempotency check of intake, and the id alone locates the order.</item>
/// <item><c>{orderId}</c>, for an order received before December 2026 (an id of the older form, no merchant part):
/// RowKey <c>order</c> and <c>history|{version}</c>; its merchant's list row is then a projection at
/// <c>m|{merchantId}</c> / <c>{orderId}</c>, written after the commit like a 3PL's.</item>
/// <item><c>t|{threePlId}</c>, RowKey <c>{connectionId}|{orderId}</c>: the 3PL's list; a connection is a RowKey
/// range, so "filter by client", a scoped key and the hand-back page through one partition. <c>~b|{month}|…</c> there
/// are the usage lines billed to the 3PL, written with its list rows (<see cref="UsageRows"/>).</item>
/// <item><c>rules|{merchantId}</c> and <c>carriers|{accountId}</c>, RowKey <c>current</c>: routing rules and
/// carrier accounts.</item>
/// </list>
/// Projection rows are derived data: written after the commit by <see cref="OrderIndex"/>, guarded by the order's
/// version so a late writer never overwrites a newer projection, re-synced by the command's follow-up message when
/// the command could not, and re-validated against the order row on every read.
/// </summary>
public sealed class OrderStore(TableServiceClient tables, StorageNames names, TimeProvider time, ReconciliationOptions reconciliation, EventViews views) : ICommittedFeedShelves
{
    public const string TableName = "orders";
    public const string OrderRowKey = "order";
    public const string HistoryRowPrefix = "history|";
    public const string ReceivedRowPrefix = "received|";
    private const string FeedKeysColumn = "FeedKeys";
    private const int MaxRekeys = 3;

    /// <summary>The history row column naming the follow-up message that finishes the change (<see cref="OrderFollowUpMessage"/>).</summary>
    private const string FollowUpColumn = "FollowUp";

    public TableClient Table => tables.GetTableClient(names.Table(TableName));

    /// <summary>
    /// The id of a merchant's order with a given external id: a hash of both, followed by the merchant's part, so a
    /// retried intake, however concurrent, names the same row and only one insert can win. Its own part is the whole id
    /// the same order had in the older form (<see cref="OrderId.Own"/>), which is also the RowKey of such an order's
    /// list row in the merchant's partition: an order received before the change of form conflicts with its re-send.
    /// </summary>
    public static OrderId IdFor(AccountId merchant, string externalId) =>
        OrderId.InMerchantPartition(merchant, SHA256.HashData(Encoding.UTF8.GetBytes(merchant.Value + "\n" + externalId)));

    /// <summary>The RowKey of the marker row intake writes with an order (<see cref="ReceivedOrder"/>).</summary>
    public static string ReceivedMarker(OrderId order, string routingMessageId) => RowKeys.Of(order).MarkerPrefix + routingMessageId;

    /// <summary>The partition that holds an order's row and history.</summary>
    public static string PartitionOf(OrderId id) => RowKeys.Of(id).Partition;

    /// <summary>The query filter for all history rows of an order.</summary>
    public static string HistoryFilter(OrderId id)
    {
        var keys = RowKeys.Of(id);
        return TableClient.CreateQueryFilter($"PartitionKey eq {keys.Partition} and RowKey ge {keys.HistoryPrefix} and RowKey lt {keys.HistoryEnd}");
    }

    /// <summary>
    /// Whether a row of a merchant's partition is an order itself, not the list row of an order stored apart (nor a row
    /// after the list rows, such as a usage line, which has an external id too).
    /// </summary>
    public static bool IsOrderRow(TableEntity row) => row.ContainsKey("ExternalId") && !row.RowKey.StartsWith(OrderChangeFeed.ListRowsEnd, StringComparison.Ordinal);

    public async Task<StoredOrder?> GetAsync(OrderId id, CancellationToken cancellationToken = default)
    {
        var keys = RowKeys.Of(id);
        var row = await Table.FindAsync(keys.Partition, keys.OrderRow, cancellationToken).ConfigureAwait(false);
        if (row is null || IsOrderRow(row))
        {
            return row is null ? null : FromEntity(row);
        }
        // The list row of the same order stored apart (received before the change of id form): a re-send finds it.
        return OrderId.TryParse(row.GetString("OrderId"), out var apart) && apart.Merchant is null
            ? await GetAsync(apart, cancellationToken).ConfigureAwait(false)
            : null;
    }

    /// <summary>The order a list row stands for: the row itself in a merchant's partition, else the order it projects, read.</summary>
    public async Task<StoredOrder?> ReadListedAsync(TableEntity row, CancellationToken cancellationToken) =>
        IsOrderRow(row) ? FromEntity(row) : await GetAsync(OrderId.Parse(row.GetString("OrderId")!), cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// The change rows an order about to be written for the first time will have (<see cref="StoredOrder.FeedKeys"/>),
    /// keyed now, so that intake's routing request can name them before the insert.
    /// </summary>
    public IReadOnlyList<string> NewFeedKeys(Order order)
    {
        var keys = RowKeys.Of(order.Id);
        return keys.InMerchantPartition
            ? OrderChangeFeed.ChangeKeys(keys.Partition, order.Id.Value, null, TimeKeyedFeed.KeyTime(order.UpdatedAt, time.GetUtcNow(), reconciliation))
            : [];
    }

    /// <summary>
    /// Inserts a new order with its history rows, the marker row its routing request names (<see cref="ReceivedOrder"/>)
    /// and, in the merchant's partition, its change row (<paramref name="created"/>'s <see cref="StoredOrder.FeedKeys"/>).
    /// Null when the order already exists, or a list row of the same order stored apart does.
    /// </summary>
    public async Task<StoredOrder?> TryCreateAsync(StoredOrder created, IEnumerable<OrderEvent> events, string? marker, CancellationToken cancellationToken)
    {
        var keys = RowKeys.Of(created.Order.Id);
        var row = ToEntity(created);
        var actions = Actions(keys, new TableTransactionAction(TableTransactionActionType.Add, row), events);
        if (marker is not null)
        {
            actions.Add(new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(keys.Partition, marker)));
        }
        if (keys.InMerchantPartition)
        {
            actions.AddRange(FeedActions(row, created.FeedKeys, []));
        }
        try
        {
            var responses = await Table.CommitAsync(actions, cancellationToken).ConfigureAwait(false);
            return await RekeyIfLateAsync(created, row, responses[0].GetETag(), [], cancellationToken).ConfigureAwait(false);
        }
        catch (TableTransactionFailedException ex) when (ex.Status == StatusCodes.Status409Conflict && ex.FailedTransactionActionIndex is 0 or null)
        {
            return null;
        }
    }

    /// <summary>
    /// Replaces the order row if unchanged since read, with its history rows; 412 if not. The messages ride on the last
    /// history row (<see cref="Outbox.Carry"/>), and with <paramref name="followUpId"/> that row names the follow-up
    /// message that finishes the command (<see cref="OrderFollowUpMessage"/>), so the message can tell its own commit
    /// from another writer's. An order that was never read (<see cref="StoredOrder.Marker"/>) is replaced under its
    /// marker row and its next history row instead of an ETag: the transaction fails (404 or 409) unless the marker is
    /// there and nothing changed the order since intake. In the merchant's partition the order's change row is replaced
    /// in the same transaction (the previous one, named by <see cref="StoredOrder.FeedKeys"/>, must exist: another 404
    /// that means the order is not as read), and so are the usage lines of the shipments it makes when the merchant pays
    /// for them (<see cref="UsageRows"/>). Returns the order as committed.
    /// </summary>
    public async Task<StoredOrder> CommitAsync(StoredOrder updated, IReadOnlyList<OrderEvent> events, IReadOnlyCollection<OutboxMessage> messages, CancellationToken cancellationToken, string? followUpId = null)
    {
        if (events.Count == 0)
        {
            throw new InvalidOperationException("A change without events has no history row to carry its messages.");
        }
        var keys = RowKeys.Of(updated.Order.Id);
        var row = ToEntity(updated);
        var main = new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, updated.Marker is null ? updated.ETag : ETag.All);
        var actions = Actions(keys, main, events);
        var last = actions[^1].Entity as TableEntity ?? throw new InvalidOperationException("A history row is a TableEntity.");
        Outbox.Carry(last, messages);
        last[FollowUpColumn] = followUpId;
        if (updated.Marker is { } marker)
        {
            actions.Add(new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(keys.Partition, marker), ETag.All));
        }
        var committed = updated with { Marker = null };
        var recorded = new List<(EventEnvelope Envelope, List<TableEntity> Rows)>();
        if (keys.InMerchantPartition)
        {
            committed = committed with { FeedKeys = NewFeedKeys(updated.Order) };
            actions.AddRange(FeedActions(row, committed.FeedKeys, updated.FeedKeys));
            var keyTime = TimeKeyedFeed.TimeOf(OrderChangeFeed.ChangePrefix, committed.FeedKeys[0]);
            recorded.AddRange(RecordedHere(messages, updated.Order.MerchantAccountId).Select(e => (e, Shelf(updated.Order.MerchantAccountId).Rows(e, updated.Order.MerchantAccountId, views, keyTime))));
            actions.AddRange(recorded.SelectMany(r => r.Rows).Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r)));
            // A shipment the merchant pays for is billed in the commit that makes it (docs/billing.md).
            actions.AddRange(UsageRows.InCommit(updated, events).Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r)));
        }
        var responses = await Table.CommitAsync(actions, cancellationToken).ConfigureAwait(false);
        return await RekeyIfLateAsync(committed, row, responses[0].GetETag(), recorded, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A merchant's shelf of its catch-up feed: its order events, committed with the changes in its partition.</summary>
    public FeedShelf? For(AccountId account, Domain.Accounts.AccountKind kind) =>
        kind == Domain.Accounts.AccountKind.Merchant ? Shelf(account) : null;

    private FeedShelf Shelf(AccountId merchant) => new(Table, OrderIndex.MerchantPartition(merchant), "~e|", "~f|");

    /// <summary>The events among a change's messages whose rows for the merchant this change commits (<see cref="EventEnvelope.RecordedFor"/>).</summary>
    private static IEnumerable<EventEnvelope> RecordedHere(IEnumerable<OutboxMessage> messages, AccountId merchant) =>
        messages.Where(m => m.Queue == EventEnvelope.Queue)
            .Select(m => EventEnvelope.Parse(m.Body))
            .Where(e => e.RecordedFor?.Contains(merchant.Value, StringComparer.Ordinal) == true);

    /// <summary>
    /// Sets the order row's change row (<paramref name="keys"/>), deleting those of its previous state that differ; the
    /// rows say which order and version they are about (<see cref="OrderChangeFeed"/>).
    /// </summary>
    private static IEnumerable<TableTransactionAction> FeedActions(TableEntity row, IReadOnlyList<string> keys, IReadOnlyList<string> previous)
    {
        row[FeedKeysColumn] = string.Join(',', keys);
        return previous.Except(keys, StringComparer.Ordinal)
            .Select(key => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(row.PartitionKey, key), ETag.All))
            .Concat(OrderChangeFeed.ChangeRows(row, keys));
    }

    /// <summary>
    /// A write that took longer than the reconciliation feeds allow after its rows' key time writes its change row and
    /// the catch-up rows it recorded again under a fresh time, deleting the late ones (<see cref="TimeKeyedFeed"/>), as
    /// every writer of such rows does; a newer change that replaced the order meanwhile has written rows of its own, and
    /// then the late catch-up rows stay (a reader may meet such an event twice, as a webhook receiver may).
    /// </summary>
    private async Task<StoredOrder> RekeyIfLateAsync(StoredOrder written, TableEntity row, ETag etag, IReadOnlyList<(EventEnvelope Envelope, List<TableEntity> Rows)> recorded, CancellationToken cancellationToken)
    {
        var stored = written with { ETag = etag };
        for (var rekey = 0; rekey < MaxRekeys && stored.FeedKeys.Count > 0
            && TimeKeyedFeed.WrittenTooLate(TimeKeyedFeed.TimeOf(OrderChangeFeed.ChangePrefix, stored.FeedKeys[0]), time.GetUtcNow(), reconciliation); rekey++)
        {
            var now = time.GetUtcNow();
            var fresh = OrderChangeFeed.ChangeKeys(row.PartitionKey, stored.Order.Id.Value, null, now);
            var moved = recorded.Select(r => (r.Envelope, Rows: Shelf(stored.Order.MerchantAccountId).Rows(r.Envelope, stored.Order.MerchantAccountId, views, now))).ToList();
            var actions = new List<TableTransactionAction> { new(TableTransactionActionType.UpdateReplace, row, stored.ETag) };
            actions.AddRange(FeedActions(row, fresh, stored.FeedKeys));
            actions.AddRange(recorded.SelectMany(r => r.Rows).Select(r => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(r.PartitionKey, r.RowKey), ETag.All)));
            actions.AddRange(moved.SelectMany(r => r.Rows).Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r)));
            try
            {
                var responses = await Table.CommitAsync(actions, cancellationToken).ConfigureAwait(false);
                stored = stored with { ETag = responses[0].GetETag(), FeedKeys = fresh };
                recorded = moved;
            }
            catch (TableTransactionFailedException ex) when (ex.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status404NotFound)
            {
                break;
            }
        }
        return stored;
    }

    /// <summary>
    /// The messages carried by the history rows of the versions after <paramref name="afterVersion"/>, oldest first,
    /// except those of changes that a follow-up message finishes (that message publishes them).
    /// </summary>
    public async Task<IReadOnlyList<OutboxMessage>> CarriedMessagesAsync(OrderId id, long afterVersion, CancellationToken cancellationToken)
    {
        var keys = RowKeys.Of(id);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {keys.Partition} and RowKey gt {keys.History(afterVersion)} and RowKey lt {keys.HistoryEnd}");
        var messages = new List<OutboxMessage>();
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (row.GetString(FollowUpColumn) is null)
            {
                messages.AddRange(Outbox.CarriedBy(row));
            }
        }
        return messages;
    }

    /// <summary>
    /// The messages carried by the change at <paramref name="version"/> if the command of follow-up message
    /// <paramref name="followUpId"/> committed it; null if no change has that version yet or another writer's has.
    /// </summary>
    public async Task<IReadOnlyList<OutboxMessage>?> CarriedByFollowUpAsync(OrderId id, long version, string followUpId, CancellationToken cancellationToken)
    {
        var keys = RowKeys.Of(id);
        var row = await Table.FindAsync(keys.Partition, keys.History(version), cancellationToken).ConfigureAwait(false);
        return row is not null && row.GetString(FollowUpColumn) == followUpId ? Outbox.CarriedBy(row) : null;
    }

    /// <summary>
    /// Whether the change at <paramref name="version"/> is the one that carries message <paramref name="messageId"/> (among
    /// its messages, or as its follow-up): how a writer whose commit seemed to lose a race learns that it had landed.
    /// </summary>
    public async Task<bool> CommittedAsync(OrderId id, long version, string messageId, CancellationToken cancellationToken)
    {
        var keys = RowKeys.Of(id);
        var row = await Table.FindAsync(keys.Partition, keys.History(version), cancellationToken).ConfigureAwait(false);
        return row is not null && (row.GetString(FollowUpColumn) == messageId || Outbox.CarriedBy(row).Any(m => m.Id == messageId));
    }

    /// <summary>
    /// Rewrites nothing but the row's ETag, under the ETag <paramref name="read"/> has, so that a commit conditioned on
    /// that ETag (one still under way, or never to come) can no longer succeed. False when the row changed meanwhile.
    /// </summary>
    public async Task<bool> FenceAsync(StoredOrder read, CancellationToken cancellationToken)
    {
        var keys = RowKeys.Of(read.Order.Id);
        var row = new TableEntity(keys.Partition, keys.OrderRow) { ["Version"] = read.Order.Version };
        try
        {
            await Table.UpdateEntityAsync(row, read.ETag, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status412PreconditionFailed)
        {
            return false;
        }
    }

    private static List<TableTransactionAction> Actions(RowKeys keys, TableTransactionAction main, IEnumerable<OrderEvent> events)
    {
        var actions = new List<TableTransactionAction> { main };
        actions.AddRange(events.Select(e => new TableTransactionAction(TableTransactionActionType.Add, HistoryEntity(keys, e))));
        return actions;
    }

    public async Task<IReadOnlyList<OrderHistoryEntry>> ListHistoryAsync(OrderId id, CancellationToken cancellationToken)
    {
        var filter = HistoryFilter(id);
        var entries = new List<OrderHistoryEntry>();
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            entries.Add(new OrderHistoryEntry(row.GetInt64("Version") ?? 0, row.GetString("Event") ?? "", row.GetString("Status") ?? "", row.GetString("ConnectionId"), row.GetDateTimeOffset("At") ?? default));
        }
        return entries;
    }

    private static TableEntity HistoryEntity(RowKeys keys, OrderEvent e) => new(keys.Partition, keys.History(e.Version))
    {
        ["Version"] = e.Version,
        ["Event"] = e.GetType().Name,
        ["Status"] = OrderStatusNames.ToWire(e.Status),
        ["ConnectionId"] = e.ConnectionId?.Value,
        ["At"] = e.OccurredAt,
    };

    public static TableEntity ToEntity(StoredOrder stored)
    {
        var s = stored.Order.ToState();
        var keys = RowKeys.Of(s.Id);
        var entity = new TableEntity(keys.Partition, keys.OrderRow)
        {
            ["OrderId"] = keys.InMerchantPartition ? s.Id.Value : null,
            ["MerchantAccountId"] = s.MerchantAccountId.Value,
            ["ExternalId"] = s.ExternalId,
            ["Status"] = OrderStatusNames.ToWire(s.Status),
            ["Lines"] = JsonSerializer.Serialize(s.Lines, EventEnvelope.Json),
            ["ShipTo"] = JsonSerializer.Serialize(s.ShipTo, EventEnvelope.Json),
            ["ShippingService"] = s.ShippingService,
            ["Notes"] = s.Notes,
            ["CancellationRequestedAt"] = s.CancellationRequestedAt,
            ["Version"] = s.Version,
            ["CreatedAt"] = s.CreatedAt,
            ["UpdatedAt"] = s.UpdatedAt,
            ["ThreePlAccountId"] = stored.ThreePlAccountId?.Value,
            ["Released"] = stored.Released.Count == 0 ? null : JsonSerializer.Serialize(stored.Released.Select(r => r.ToString()), EventEnvelope.Json),
        };
        if (s.Delegation is { } d)
        {
            entity["ConnectionId"] = d.ConnectionId.Value;
            entity["SettingsVersion"] = d.SettingsVersion;
            entity["InternalCustomerId"] = d.InternalCustomerId;
            entity["ShippingRules"] = PartyNames.ToWire(d.ShippingRules);
            entity["OrderFeeBilledTo"] = PartyNames.ToWire(d.OrderFeeBilledTo);
            entity["SupportTickets"] = PartyNames.ToWire(d.SupportTickets);
            entity["AcceptWithinSeconds"] = (long?)d.AcceptWithin?.TotalSeconds;
        }
        if (s.Request is { } request)
        {
            entity["RequestedAt"] = request.RequestedAt;
            entity["AcceptedAt"] = request.AcceptedAt;
            entity["RequestOverdueAt"] = request.OverdueAt;
        }
        FulfilmentColumns.Write(entity, s);
        return entity;
    }

    public static StoredOrder FromEntity(TableEntity row)
    {
        OrderStatusNames.TryParse(row.GetString("Status"), out var status);
        Delegation? delegation = null;
        if (row.GetString("ConnectionId") is { } connectionId)
        {
            PartyNames.TryParse(row.GetString("ShippingRules"), out SettingsOwner shippingRules);
            PartyNames.TryParse(row.GetString("OrderFeeBilledTo"), out SettingsOwner orderFee);
            PartyNames.TryParse(row.GetString("SupportTickets"), out SettingsOwner tickets);
            delegation = new Delegation(ConnectionId.Parse(connectionId), row.GetInt32("SettingsVersion") ?? 1, row.GetString("InternalCustomerId"), shippingRules, orderFee, tickets)
            {
                AcceptWithin = row.GetInt64("AcceptWithinSeconds") is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
            };
        }
        var orderId = OrderId.Parse(row.GetString("OrderId") ?? row.PartitionKey);
        var lines = JsonSerializer.Deserialize<List<OrderLine>>(row.GetString("Lines") ?? "[]", EventEnvelope.Json) ?? [];
        var updatedAt = row.GetDateTimeOffset("UpdatedAt") ?? default;
        var order = Order.Restore(new OrderState(
            orderId,
            AccountId.Parse(row.GetString("MerchantAccountId")!),
            row.GetString("ExternalId")!,
            status,
            lines,
            JsonSerializer.Deserialize<Address>(row.GetString("ShipTo") ?? "null", EventEnvelope.Json)!,
            row.GetString("ShippingService"),
            row.GetString("Notes"),
            delegation,
            row.GetDateTimeOffset("CancellationRequestedAt"),
            row.GetInt64("Version") ?? 1,
            row.GetDateTimeOffset("CreatedAt") ?? default,
            updatedAt)
        {
            Request = delegation is null ? null : FulfilmentColumns.ReadRequest(row, status, updatedAt),
            Shipments = FulfilmentColumns.ReadShipments(row, orderId, lines),
            Holds = FulfilmentColumns.ReadHolds(row),
            ReleasedHolds = FulfilmentColumns.ReadReleasedHolds(row),
            Rejections = FulfilmentColumns.ReadRejections(row),
        });
        var released = row.GetString("Released") is { } json
            ? JsonSerializer.Deserialize<List<string>>(json, EventEnvelope.Json)!.Select(ReleasedDelegation.Parse).ToList()
            : [];
        return new StoredOrder(order, row.GetString("ThreePlAccountId") is { } tpl ? AccountId.Parse(tpl) : null, released, row.ETag)
        {
            FeedKeys = row.GetString(FeedKeysColumn) is { Length: > 0 } feedKeys ? feedKeys.Split(',') : [],
        };
    }

    /// <summary>Where an order's rows are: the form of its id decides (<see cref="OrderId"/>).</summary>
    private readonly record struct RowKeys(string Partition, string OrderRow, string HistoryPrefix, string MarkerPrefix, bool InMerchantPartition)
    {
        public static RowKeys Of(OrderId id) => id.Merchant is { } merchant
            ? new(OrderIndex.MerchantPartition(merchant), id.Own, "~h|" + id.Own + "|", "~r|" + id.Own + "|", true)
            : new(id.Value, OrderRowKey, HistoryRowPrefix, ReceivedRowPrefix, false);

        public string History(long version) => HistoryPrefix + version.ToString("D10", CultureInfo.InvariantCulture);

        /// <summary>Just past the last history row: the prefix with its final <c>|</c> replaced by the next character.</summary>
        public string HistoryEnd => HistoryPrefix[..^1] + "}";
    }
}

/// <summary>
/// An order row as read: the aggregate, the 3PL account of its current connection (for the 3PL's list and
/// access checks), the delegations it was handed back from (their index rows must go) and the row's ETag.
/// </summary>
public sealed record StoredOrder(Order Order, AccountId? ThreePlAccountId, IReadOnlyList<ReleasedDelegation> Released, ETag ETag)
{
    /// <summary>
    /// Set on an order taken from its routing request instead of read (<see cref="ReceivedOrder"/>): the intake marker
    /// row its commit consumes in place of the ETag it does not have.
    /// </summary>
    public string? Marker { get; init; }

    /// <summary>
    /// The change rows (<see cref="OrderChangeFeed"/>) the order row names, for an order in its merchant's partition: as
    /// read, or as intake is about to write them. The next commit replaces exactly these.
    /// </summary>
    public IReadOnlyList<string> FeedKeys { get; init; } = [];
}

/// <summary>A connection an order was once delegated to and handed back from.</summary>
public sealed record ReleasedDelegation(AccountId ThreePlAccountId, ConnectionId ConnectionId)
{
    public override string ToString() => ThreePlAccountId.Value + "|" + ConnectionId.Value;

    public static ReleasedDelegation Parse(string value)
    {
        var parts = value.Split('|');
        return new ReleasedDelegation(AccountId.Parse(parts[0]), ConnectionId.Parse(parts[1]));
    }
}

public sealed record OrderHistoryEntry(long Version, string Event, string Status, string? ConnectionId, DateTimeOffset At);
