using System.Text.Json;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Orders;

/// <summary>The queue messages an order's events cause: published events (billing records a shipment's usage line from its <c>order.shipped</c>), the routing request (at intake and after a rejection or an overdue hand-back) and request deadlines.</summary>
public static class OrderMessages
{
    public const string RoutingQueue = "order-routing";

    /// <summary>The routing request for a received order.</summary>
    public static OutboxMessage RoutingRequest(OrderReceived received) => new(
        "rte_" + Outbox.NewId(received.OccurredAt),
        RoutingQueue,
        JsonSerializer.Serialize(new RouteOrderMessage(received.OrderId.Value, received.Version, received.OccurredAt), EventEnvelope.Json));

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
