using System.Text.Json;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Orders;

/// <summary>The queue messages an order's events cause: published events, the routing request and, on shipping, the usage line.</summary>
public static class OrderMessages
{
    public const string RoutingQueue = "order-routing";
    public const string HandbackQueue = "order-handbacks";

    /// <summary>The routing request for a received order.</summary>
    public static OutboxMessage RoutingRequest(OrderReceived received) => new(
        "rte_" + Outbox.NewId(received.OccurredAt),
        RoutingQueue,
        JsonSerializer.Serialize(new RouteOrderMessage(received.OrderId.Value, received.Version, received.OccurredAt), EventEnvelope.Json));

    /// <param name="stored">The order after the change.</param>
    /// <param name="events">What happened.</param>
    /// <param name="threePlOf">The 3PL account of a connection the events name (for a hand-back, the previous one).</param>
    public static List<OutboxMessage> For(StoredOrder stored, IEnumerable<OrderEvent> events, Func<OrderEvent, string?> threePlOf)
    {
        var messages = new List<OutboxMessage>();
        foreach (var @event in events)
        {
            if (@event is OrderShipped)
            {
                messages.Add(Billing.RecordUsageMessage.For(stored.Order.Id));
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
                JsonSerializer.SerializeToElement(OrderResponse.For(stored.Order), EventEnvelope.Json));
            messages.Add(envelope.ToOutboxMessage());
        }
        return messages;
    }
}

/// <summary>
/// Asks routing to place an order; <see cref="Version"/> is the order version it was received at,
/// <see cref="ReceivedAt"/> when intake sent it (before the order was written: see <see cref="OrderCommands.CreateAsync"/>).
/// </summary>
public sealed record RouteOrderMessage(string OrderId, long Version, DateTimeOffset ReceivedAt);
