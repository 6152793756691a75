using System.Text.Json;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Orders;

/// <summary>The queue messages an order's events cause: published events (billing records a shipment's usage line from its <c>order.shipped</c>, which carries what the line needs, unless the line rode with the order's rows), the routing request (at intake and after a rejection or an overdue hand-back) and request deadlines.</summary>
public static class OrderMessages
{
    public const string RoutingQueue = "order-routing";

    /// <summary>
    /// Beyond this many characters of order, a routing request does not carry the order and routing reads it: the
    /// message stays far below what a queue message holds (64 KB, base64) whatever else it carries.
    /// </summary>
    public const int MaxCarriedOrderChars = 30_000;

    /// <summary>
    /// The routing request for a received order, carrying the order as intake writes it (when it is small enough), and
    /// the marker row intake writes with it (<see cref="ReceivedOrder"/>).
    /// </summary>
    /// <param name="created">The order about to be inserted, with the change rows it will have.</param>
    /// <param name="received">Its first event.</param>
    public static (OutboxMessage Message, string Marker) RoutingRequest(StoredOrder created, OrderReceived received)
    {
        var order = created.Order;
        var id = "rte_" + Outbox.NewId(received.OccurredAt);
        var marker = OrderStore.ReceivedMarker(order.Id, id);
        var carried = new ReceivedOrder(marker, order.MerchantAccountId.Value, order.ExternalId, order.Lines, order.ShipTo, order.ShippingService, order.Notes)
        {
            FeedKeys = created.FeedKeys.Count == 0 ? null : created.FeedKeys,
        };
        var message = new RouteOrderMessage(received.OrderId.Value, received.Version, received.OccurredAt);
        var body = JsonSerializer.Serialize(message with { Order = carried }, EventEnvelope.Json);
        if (body.Length > MaxCarriedOrderChars)
        {
            body = JsonSerializer.Serialize(message, EventEnvelope.Json);
        }
        return (new OutboxMessage(id, RoutingQueue, body), marker);
    }

    /// <param name="stored">The order after the change.</param>
    /// <param name="events">What happened.</param>
    /// <param name="threePlOf">The 3PL account of a connection the events name (for a hand-back, the previous one).</param>
    /// <param name="deadlineMaxDelay">The longest delay of a request-deadline message (<see cref="OrderOptions.RequestDeadlineMaxDelay"/>).</param>
    public static List<OutboxMessage> For(StoredOrder stored, IEnumerable<OrderEvent> events, Func<OrderEvent, string?> threePlOf, TimeSpan deadlineMaxDelay)
    {
        var messages = new List<OutboxMessage>();
        foreach (var @event in events)
        {
            if (@event is OrderDelegated { Delegation.AcceptWithin: { } within } delegated)
            {
                messages.Add(RequestDeadlineMessage.For(delegated, within, deadlineMaxDelay));
            }
            if (@event is OrderRejected or OrderRequestOverdue { Status: OrderStatus.Open })
            {
                // Handed back to the merchant to be routed again, never to a connection that had it (RouteOrder).
                var body = JsonSerializer.Serialize(new RouteOrderMessage(@event.OrderId.Value, @event.Version, @event.OccurredAt), EventEnvelope.Json);
                messages.Add(new OutboxMessage("rte_" + Outbox.NewId(@event.OccurredAt), RoutingQueue, body));
            }
            if (@event.Type is not { } type)
            {
                continue;
            }
            var accounts = new List<string> { stored.Order.MerchantAccountId.Value };
            if (threePlOf(@event) is { } threePl)
            {
                accounts.Add(threePl);
            }
            var envelope = new EventEnvelope(
                "evt_" + Outbox.NewId(@event.OccurredAt),
                type,
                @event.OccurredAt,
                @event.ConnectionId?.Value,
                stored.Order.Id.Value,
                accounts,
                JsonSerializer.SerializeToElement(OrderResponse.For(stored.Order), EventEnvelope.Json))
            {
                // An order in its merchant's partition records the merchant's catch-up rows in its own commit (OrderStore).
                RecordedFor = stored.Order.Id.Merchant is null ? null : [stored.Order.MerchantAccountId.Value],
                Usage = @event is OrderShipped shipped ? UsageOf(stored, shipped, threePlOf(@event)) : null,
            };
            messages.Add(envelope.ToOutboxMessage());
        }
        return messages;
    }

    /// <summary>
    /// What the shipment bills, as this change commits it; null without the connection's 3PL (billing then reads the
    /// order). For an order whose lines ride with its own rows (<see cref="UsageRows"/>) it says so, and billing records
    /// nothing more.
    /// </summary>
    private static ShipmentUsage? UsageOf(StoredOrder stored, OrderShipped shipped, string? threePl)
    {
        if (threePl is null || shipped.ConnectionId is not { } connection)
        {
            return null;
        }
        var order = stored.Order;
        var shipment = shipped.Shipment;
        return new ShipmentUsage(
            shipped.OrderFeeBilledTo == SettingsOwner.ThreePl ? threePl : order.MerchantAccountId.Value,
            PartyNames.ToWire(shipped.OrderFeeBilledTo),
            order.Id.Value,
            order.ExternalId,
            connection.Value,
            order.MerchantAccountId.Value,
            threePl,
            shipment.Id,
            order.Shipments[0].Id == shipment.Id,
            shipment.ShippedAt,
            shipment.Carrier,
            shipment.Service,
            shipment.TrackingNumber)
        {
            RecordedWithOrder = UsageRows.Ride(stored),
        };
    }
}

/// <summary>
/// Asks routing to place an order; <see cref="Version"/> is the order version it was received at,
/// <see cref="ReceivedAt"/> when intake sent it (before the order was written: see <see cref="OrderCommands.CreateAsync"/>).
/// </summary>
public sealed record RouteOrderMessage(string OrderId, long Version, DateTimeOffset ReceivedAt)
{
    /// <summary>The order as intake writes it, on intake's own request; null after a hand-back or for a large order.</summary>
    public ReceivedOrder? Order { get; init; }
}

/// <summary>
/// What intake wrote, so routing decides without reading the order back. The order row's ETag is unknown when the
/// message is sent (before the write), so the delegation commits against two rows instead: it deletes
/// <see cref="Marker"/>, a row intake writes with the order, which proves that this intake's order is the one stored
/// (a concurrent retry with the same external id may have won with other content), and it inserts the next history
/// row, which exists as soon as anything else changed the order (<see cref="OrderStore.CommitAsync"/>).
/// </summary>
public sealed record ReceivedOrder(string Marker, string MerchantAccountId, string ExternalId, IReadOnlyList<OrderLine> Lines, Address ShipTo, string? ShippingService, string? Notes)
{
    /// <summary>
    /// The change rows intake writes with an order in its merchant's partition (<see cref="StoredOrder.FeedKeys"/>),
    /// which the delegation replaces; a transaction that finds them gone (intake re-keyed them) fails like a stale
    /// marker, and routing reads.
    /// </summary>
    public IReadOnlyList<string>? FeedKeys { get; init; }

    /// <summary>The order at version 1, as intake built it; its commit is guarded by <see cref="Marker"/>.</summary>
    public StoredOrder ToStored(OrderId id, DateTimeOffset receivedAt) =>
        new(Domain.Orders.Order.Restore(new OrderState(id, AccountId.Parse(MerchantAccountId), ExternalId, OrderStatus.Open, Lines, ShipTo, ShippingService, Notes, null, null, 1, receivedAt, receivedAt)), null, [], default)
        {
            Marker = Marker,
            FeedKeys = FeedKeys ?? [],
        };
}
