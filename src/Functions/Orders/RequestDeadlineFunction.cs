using System.Text.Json;
using Azure.Storage.Queues;
using ThreePL.Domain.Common;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Orders;

/// <summary>
/// The deadline of one fulfilment request: the order, the connection and the delegation instant
/// (<see cref="RequestedAt"/>, which identifies the delegation even if the order comes back to the same connection
/// later), and when the request is due.
/// </summary>
public sealed record RequestDeadlineMessage(string OrderId, string ConnectionId, DateTimeOffset RequestedAt, DateTimeOffset DueAt)
{
    public const string Queue = "order-request-deadlines";

    /// <summary>The longest a storage queue message can stay invisible.</summary>
    public static readonly TimeSpan MaxQueueDelay = TimeSpan.FromDays(7);

    /// <summary>The outbox message a delegation under a snapshot with <c>acceptWithin</c> commits with.</summary>
    public static OutboxMessage For(OrderDelegated delegated, TimeSpan acceptWithin, TimeSpan maxDelay)
    {
        var message = new RequestDeadlineMessage(delegated.OrderId.Value, delegated.Delegation.ConnectionId.Value, delegated.OccurredAt, delegated.OccurredAt + acceptWithin);
        return new OutboxMessage("ddl_" + Outbox.NewId(delegated.OccurredAt), Queue, JsonSerializer.Serialize(message, EventEnvelope.Json),
            acceptWithin < maxDelay ? acceptWithin : maxDelay);
    }
}

/// <summary>
/// Escalates a fulfilment request nobody answered in time (queue <c>order-request-deadlines</c>, a delayed message
/// sent through the order's outbox with the delegation, so no table is ever scanned on a timer). A message that
/// arrives early (a deadline longer than one queue delay) is sent again for the rest. When due, and the request of
/// that delegation is still neither accepted nor rejected, the order is marked overdue once
/// (<c>order.request_overdue</c> to both parties); if the merchant's routing has an eligible connection that never
/// had the order, it is handed back in the same change and routed again. Re-delivery is harmless: the domain
/// refuses a second escalation.
/// </summary>
public sealed class RequestDeadlineFunction(
    OrderStore store,
    OrderRouter router,
    OrderCommands commands,
    QueueServiceClient queues,
    StorageNames names,
    OrderOptions options,
    TimeProvider time,
    ILogger<RequestDeadlineFunction> logger)
{
    [Function("EscalateOverdueRequest")]
    public Task RunAsync([QueueTrigger(QueueBinding.Prefix + RequestDeadlineMessage.Queue, Connection = QueueBinding.Connection)] Azure.Storage.Queues.Models.QueueMessage message, CancellationToken cancellationToken) =>
        HandleAsync(QueueDelivery.From(message), cancellationToken);

    public async Task HandleAsync(QueueDelivery trigger, CancellationToken cancellationToken)
    {
        var message = JsonSerializer.Deserialize<RequestDeadlineMessage>(trigger.MessageText, EventEnvelope.Json)
            ?? throw new JsonException("Empty request-deadline message.");
        if (!OrderId.TryParse(message.OrderId, out var id) || !ConnectionId.TryParse(message.ConnectionId, out var connection))
        {
            logger.LogWarning("Request-deadline message {MessageId} names no order or connection", trigger.MessageId);
            return;
        }
        var stored = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (stored?.Order is not { Status: OrderStatus.AwaitingShipment, Request: { IsAccepted: false, OverdueAt: null } request } order
            || order.ConnectionId != connection || request.RequestedAt != message.RequestedAt)
        {
            return;
        }
        var left = message.DueAt - time.GetUtcNow();
        if (left > TimeSpan.Zero)
        {
            var delay = left < options.RequestDeadlineMaxDelay ? left : options.RequestDeadlineMaxDelay;
            await queues.GetQueueClient(names.Queue(RequestDeadlineMessage.Queue))
                .SendAfterAsync(trigger.MessageText, delay, cancellationToken).ConfigureAwait(false);
            // Rare in production (only a deadline beyond one queue delay comes back early); it shows a re-armed deadline was not lost.
            logger.LogInformation("Request of order {OrderId} at {ConnectionId} is not due until {DueAt}; checking again in {Delay}", id, connection, message.DueAt, delay);
            return;
        }
        var elsewhere = await router.ChooseAsync(order, cancellationToken, FulfilmentRouting.PreviousConnections(stored)).ConfigureAwait(false);
        var result = await commands.TransitionAsync(id, (current, now) => current.MarkRequestOverdue(connection, message.RequestedAt, elsewhere is not null, now), cancellationToken).ConfigureAwait(false);
        if (result.Changed)
        {
            logger.LogInformation("Request of order {OrderId} at {ConnectionId} is overdue; {Next}", id, connection,
                elsewhere is null ? "no other connection, it stays" : $"handed back for {elsewhere.Connection.Id}");
        }
    }
}
