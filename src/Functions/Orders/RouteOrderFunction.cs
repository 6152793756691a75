using System.Text.Json;
using ThreePL.Domain.Common;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Orders;

/// <summary>
/// Routes an order (queue <c>order-routing</c>): a newly received one, and one a 3PL rejected or let go overdue,
/// whose message comes through the order's outbox with the hand-back and names its new version. Routing never
/// chooses a connection that had the order before (<see cref="FulfilmentRouting.PreviousConnections"/>). Intake
/// sends the message before it writes the order, and this function's message is the only thing that finishes a
/// routing commit after a crash, so:
/// <list type="bullet">
/// <item>No order yet: intake may still be writing it. The message is sent again, later, until
/// <see cref="IntakeGrace"/> has passed since intake; an order that never committed is then given up on.</item>
/// <item>The order is past the version the message names: routing (or the merchant) already acted. A message that
/// came back (its first run may have died after the commit) finishes that work: publishing what the delegation
/// carries, list rows, and the deactivation check of <see cref="OrderRouter.DelegateAsync"/>. Idempotent, so a
/// duplicate does no harm.</item>
/// <item>Intake's own message carries the order (<see cref="ReceivedOrder"/>): a first delivery decides on it without
/// reading, and the delegation's commit fails unless the stored order is that one at that version; then it reads.</item>
/// <item>Otherwise: choose and delegate. An order is delegated by routing at most once, and a handed-back order is
/// never routed again by an old message.</item>
/// </list>
/// </summary>
public sealed class RouteOrderFunction(OrderStore store, OrderRouter router, Outbox outbox, TimeProvider time, ILogger<RouteOrderFunction> logger)
{
    /// <summary>
    /// Far longer than intake can take between sending the message and writing the order (the storage client's
    /// retries included), so a slow intake is never mistaken for one that died.
    /// </summary>
    public static readonly TimeSpan IntakeGrace = TimeSpan.FromMinutes(30);

    private static readonly TimeSpan MaxRecheckDelay = TimeSpan.FromMinutes(1);

    [Function("RouteOrder")]
    public Task RunAsync([QueueTrigger(QueueBinding.Prefix + OrderMessages.RoutingQueue, Connection = QueueBinding.Connection)] Azure.Storage.Queues.Models.QueueMessage message, CancellationToken cancellationToken) =>
        HandleAsync(QueueDelivery.From(message), cancellationToken);

    public async Task HandleAsync(QueueDelivery trigger, CancellationToken cancellationToken)
    {
        var message = JsonSerializer.Deserialize<RouteOrderMessage>(trigger.MessageText, EventEnvelope.Json)
            ?? throw new JsonException("Empty routing message.");
        if (!OrderId.TryParse(message.OrderId, out var id))
        {
            logger.LogWarning("Routing message {MessageId} names no order", trigger.MessageId);
            return;
        }
        // A first delivery decides on the order its message carries; the delegation's commit proves it is still what
        // is stored (ReceivedOrder). A message that came back may follow a commit, so it reads.
        var stored = trigger.DequeueCount == 1 && message.Order is { } carried
            ? carried.ToStored(id, message.ReceivedAt)
            : await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            await RecheckLaterAsync(message, trigger.MessageText, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (stored.Order.Version != message.Version || stored.Order.Status != Domain.Orders.OrderStatus.Open)
        {
            if (trigger.DequeueCount > 1)
            {
                await router.RecoverAsync(stored, message.Version, cancellationToken).ConfigureAwait(false);
            }
            return;
        }
        var choosingAt = time.GetUtcNow();
        var target = await router.ChooseAsync(stored.Order, cancellationToken, FulfilmentRouting.PreviousConnections(stored)).ConfigureAwait(false);
        if (target is null)
        {
            // Staying with the merchant commits nothing that would prove a carried order was written: read it.
            var current = stored.Marker is null ? stored : await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                await RecheckLaterAsync(message, trigger.MessageText, cancellationToken).ConfigureAwait(false);
                return;
            }
            logger.LogInformation("Order {OrderId} matches no eligible connection; it stays with the merchant", id);
            await router.RecoverAsync(current, message.Version, cancellationToken).ConfigureAwait(false);
            return;
        }
        var result = await router.DelegateAsync(id, target.Connection.Id, stored.Order.MerchantAccountId, message.Version, cancellationToken,
            OrderRecovery.MessageRedelivery, stored, target, choosingAt).ConfigureAwait(false);
        if (result.NotFound)
        {
            await RecheckLaterAsync(message, trigger.MessageText, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (result.Error is { } error)
        {
            logger.LogInformation("Order {OrderId} was not delegated to {ConnectionId}: {Code}", id, target.Connection.Id, error.Code);
        }
    }

    private async Task RecheckLaterAsync(RouteOrderMessage message, string body, CancellationToken cancellationToken)
    {
        var age = time.GetUtcNow() - message.ReceivedAt;
        if (age > IntakeGrace)
        {
            logger.LogWarning("Order {OrderId} was never written by intake ({Age} ago); its routing request is dropped", message.OrderId, age);
            return;
        }
        var delay = age < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : age > MaxRecheckDelay ? MaxRecheckDelay : age;
        await outbox.SendAsync(new OutboxMessage("rte_" + message.OrderId, OrderMessages.RoutingQueue, body, delay), cancellationToken).ConfigureAwait(false);
    }
}
