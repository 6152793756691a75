using System.Text.Json;
using ThreePL.Domain.Common;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Orders;

/// <summary>
/// Routes an order (queue <c>order-routing</c>, sent through the outbox at intake, and after a rejection or an
/// overdue hand-back, never to a connection that had the order before). Idempotent by the order's version: a
/// re-delivered message finds the order past the version it names and does nothing, so each message delegates at
/// most once, and a handed-back order is never routed again by an old message.
/// </summary>
public sealed class RouteOrderFunction(OrderStore store, OrderRouter router, ILogger<RouteOrderFunction> logger)
{
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
        var stored = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (stored is null || stored.Order.Version != message.Version || stored.Order.Status != Domain.Orders.OrderStatus.Open)
        {
            return;
        }
        var target = await router.ChooseAsync(stored.Order, cancellationToken, FulfilmentRouting.PreviousConnections(stored)).ConfigureAwait(false);
        if (target is null)
        {
            logger.LogInformation("Order {OrderId} matches no eligible connection; it stays with the merchant", id);
            return;
        }
        var result = await router.DelegateAsync(id, target.Connection.Id, stored.Order.MerchantAccountId, message.Version, cancellationToken).ConfigureAwait(false);
        if (result.Error is { } error)
        {
            logger.LogInformation("Order {OrderId} was not delegated to {ConnectionId}: {Code}", id, target.Connection.Id, error.Code);
        }
    }
}
