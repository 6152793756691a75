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
/// <item><c>{orderId}</c>: RowKey <c>order</c> (the aggregate), <c>history|{version}</c> (one immutable row per
/// change; the last row of a change carries the messages it causes). One partition, so a change, its history and
/// its messages commit in one transaction. The order id is derived from (merchant, externalId), so inserting the <c>order</c> row is
/// itself the idempotency check of intake: no claim row, no orphans.</item>
/// <item><c>m|{merchantId}</c>, RowKey <c>{orderId}</c>: the merchant's list, with a projection (status,
/// connection, version) for server-side filters.</item>
/// <item><c>t|{threePlId}</c>, RowKey <c>{connectionId}|{orderId}</c>: the 3PL's list; a connection is a RowKey
/// range, so "filter by client", a scoped key and the hand-back page through one partition.</item>
/// <item><c>rules|{merchantId}</c> and <c>carriers|{accountId}</c>, RowKey <c>current</c>: routing rules and
/// carrier accounts.</item>
/// </list>
/// Index rows are derived data: written after the commit by <see cref="OrderIndex"/>, guarded by the order's
/// version so a late writer never overwrites a newer projection, re-synced by the command's follow-up message when
/// the command could not, and re-validated against the order row on every read.
/// </summary>
public sealed class OrderStore(TableServiceClient tables, StorageNames names)
{
    public const string TableName = "orders";
    public const string OrderRowKey = "order";
    public const string HistoryRowPrefix = "history|";
    public const string ReceivedRowPrefix = "received|";

    /// <summary>The history row column naming the follow-up message that finishes the change (<see cref="OrderFollowUpMessage"/>).</summary>
    private const string FollowUpColumn = "FollowUp";

    public TableClient Table => tables.GetTableClient(names.Table(TableName));

    /// <summary>
    /// The id of a merchant's order with a given external id: a hash of both in the id alphabet, so a retried
    /// intake, however concurrent, names the same partition and only one insert can win.
    /// </summary>
    public static OrderId IdFor(AccountId merchant, string externalId)
    {
        const string alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(merchant.Value + "\n" + externalId));
        var chars = new char[Identifier.RandomLength];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = alphabet[hash[i] & 31];
        }
        return OrderId.Parse("ord_" + new string(chars));
    }

    /// <summary>The RowKey of the marker row intake writes with an order (<see cref="ReceivedOrder"/>).</summary>
    public static string ReceivedMarker(string routingMessageId) => ReceivedRowPrefix + routingMessageId;

    public static string HistoryRowKey(long version) => HistoryRowPrefix + version.ToString("D10", CultureInfo.InvariantCulture);

    public async Task<StoredOrder?> GetAsync(OrderId id, CancellationToken cancellationToken = default)
    {
        var row = await Table.FindAsync(id.Value, OrderRowKey, cancellationToken).ConfigureAwait(false);
        return row is null ? null : FromEntity(row);
    }

    /// <summary>
    /// Inserts a new order with its history rows, and the marker row its routing request names
    /// (<see cref="ReceivedOrder"/>). Null when the order already exists.
    /// </summary>
    public async Task<ETag?> TryCreateAsync(StoredOrder created, IEnumerable<OrderEvent> events, string? marker, CancellationToken cancellationToken)
    {
        var actions = Actions(created, new TableTransactionAction(TableTransactionActionType.Add, ToEntity(created)), events);
        if (marker is not null)
        {
            actions.Add(new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(created.Order.Id.Value, marker)));
        }
        try
        {
            var responses = await Table.CommitAsync(actions, cancellationToken).ConfigureAwait(false);
            return responses[0].GetETag();
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
    /// there and nothing changed the order since intake.
    /// </summary>
    public async Task<ETag> CommitAsync(StoredOrder updated, IReadOnlyList<OrderEvent> events, IReadOnlyCollection<OutboxMessage> messages, CancellationToken cancellationToken, string? followUpId = null)
    {
        if (events.Count == 0)
        {
            throw new InvalidOperationException("A change without events has no history row to carry its messages.");
        }
        var main = new TableTransactionAction(TableTransactionActionType.UpdateReplace, ToEntity(updated), updated.Marker is null ? updated.ETag : ETag.All);
        var actions = Actions(updated, main, events);
        var last = actions[^1].Entity as TableEntity ?? throw new InvalidOperationException("A history row is a TableEntity.");
        Outbox.Carry(last, messages);
        last[FollowUpColumn] = followUpId;
        if (updated.Marker is { } marker)
        {
            actions.Add(new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(updated.Order.Id.Value, marker), ETag.All));
        }
        var responses = await Table.CommitAsync(actions, cancellationToken).ConfigureAwait(false);
        return responses[0].GetETag();
    }

    /// <summary>
    /// The messages carried by the history rows of the versions after <paramref name="afterVersion"/>, oldest first,
    /// except those of changes that a follow-up message finishes (that message publishes them).
    /// </summary>
    public async Task<IReadOnlyList<OutboxMessage>> CarriedMessagesAsync(OrderId id, long afterVersion, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {id.Value} and RowKey gt {HistoryRowKey(afterVersion)} and RowKey lt {"history}"}");
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
        var row = await Table.FindAsync(id.Value, HistoryRowKey(version), cancellationToken).ConfigureAwait(false);
        return row is not null && row.GetString(FollowUpColumn) == followUpId ? Outbox.CarriedBy(row) : null;
    }

    /// <summary>
    /// Whether the change at <paramref name="version"/> is the one that carries message <paramref name="messageId"/> (among
    /// its messages, or as its follow-up): how a writer whose commit seemed to lose a race learns that it had landed.
    /// </summary>
    public async Task<bool> CommittedAsync(OrderId id, long version, string messageId, CancellationToken cancellationToken)
    {
        var row = await Table.FindAsync(id.Value, HistoryRowKey(version), cancellationToken).ConfigureAwait(false);
        return row is not null && (row.GetString(FollowUpColumn) == messageId || Outbox.CarriedBy(row).Any(m => m.Id == messageId));
    }

    /// <summary>
    /// Rewrites nothing but the row's ETag, under the ETag <paramref name="read"/> has, so that a commit conditioned on
    /// that ETag (one still under way, or never to come) can no longer succeed. False when the row changed meanwhile.
    /// </summary>
    public async Task<bool> FenceAsync(StoredOrder read, CancellationToken cancellationToken)
    {
        var row = new TableEntity(read.Order.Id.Value, OrderRowKey) { ["Version"] = read.Order.Version };
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

    private static List<TableTransactionAction> Actions(StoredOrder order, TableTransactionAction main, IEnumerable<OrderEvent> events)
    {
        var partition = order.Order.Id.Value;
        var actions = new List<TableTransactionAction> { main };
        actions.AddRange(events.Select(e => new TableTransactionAction(TableTransactionActionType.Add, HistoryEntity(partition, e))));
        return actions;
    }

    public async Task<IReadOnlyList<OrderHistoryEntry>> ListHistoryAsync(OrderId id, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {id.Value} and RowKey ge {HistoryRowPrefix} and RowKey lt {"history}"}");
        var entries = new List<OrderHistoryEntry>();
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            entries.Add(new OrderHistoryEntry(row.GetInt64("Version") ?? 0, row.GetString("Event") ?? "", row.GetString("Status") ?? "", row.GetString("ConnectionId"), row.GetDateTimeOffset("At") ?? default));
        }
        return entries;
    }

    private static TableEntity HistoryEntity(string partition, OrderEvent e) => new(partition, HistoryRowKey(e.Version))
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
        var entity = new TableEntity(s.Id.Value, OrderRowKey)
        {
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
        var orderId = OrderId.Parse(row.PartitionKey);
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
        return new StoredOrder(order, row.GetString("ThreePlAccountId") is { } tpl ? AccountId.Parse(tpl) : null, released, row.ETag);
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
