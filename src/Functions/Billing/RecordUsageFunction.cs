using System.Text.Json;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Messaging;
using ThreePL.Functions.Orders;

namespace ThreePL.Functions.Billing;

/// <summary>Asks billing to record the order fee of a shipped order; only the id travels, the order row is the truth.</summary>
public sealed record RecordUsageMessage(string OrderId)
{
    public const string Queue = "billing";

    /// <summary>The outbox message the ship commit carries; its id is fixed per order, as only one ship can commit.</summary>
    public static OutboxMessage For(OrderId order) =>
        new("bil_" + order.Value, Queue, JsonSerializer.Serialize(new RecordUsageMessage(order.Value), EventEnvelope.Json));
}

/// <summary>
/// Records one usage line per shipped order (queue <c>billing</c>, sent through the order's outbox in the same
/// transaction as the ship). It reads the order, bills the account its delegation snapshot names
/// (<c>orderFeeBilledTo</c>: the 3PL of the connection or the merchant) and inserts the line under a key derived
/// from the order alone, so a re-delivered or re-relayed message finds the row and does nothing.
/// </summary>
public sealed class RecordUsageFunction(OrderStore orders, UsageStore usage, TimeProvider time, ILogger<RecordUsageFunction> logger)
{
    [Function("RecordUsage")]
    public Task RunAsync([QueueTrigger(QueueBinding.Prefix + RecordUsageMessage.Queue, Connection = QueueBinding.Connection)] Azure.Storage.Queues.Models.QueueMessage message, CancellationToken cancellationToken) =>
        HandleAsync(QueueDelivery.From(message), cancellationToken);

    public async Task HandleAsync(QueueDelivery trigger, CancellationToken cancellationToken)
    {
        var message = JsonSerializer.Deserialize<RecordUsageMessage>(trigger.MessageText, EventEnvelope.Json)
            ?? throw new JsonException("Empty billing message.");
        if (!OrderId.TryParse(message.OrderId, out var id))
        {
            logger.LogWarning("Billing message {MessageId} names no order", trigger.MessageId);
            return;
        }
        var stored = await orders.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (stored is not { Order: { Status: OrderStatus.Shipped, Delegation: { } delegation, Shipment: { } shipment } order } || stored.ThreePlAccountId is not { } threePl)
        {
            logger.LogWarning("Order {OrderId} is not a shipped, delegated order; no usage recorded", id);
            return;
        }
        var billed = delegation.OrderFeeBilledTo == SettingsOwner.ThreePl ? threePl : order.MerchantAccountId;
        var line = new UsageLine(billed, delegation.OrderFeeBilledTo, order.Id, order.ExternalId, delegation.ConnectionId,
            order.MerchantAccountId, threePl, shipment.ShippedAt, shipment.Carrier, shipment.Service, shipment.TrackingNumber);
        if (!await usage.TryRecordAsync(line, time.GetUtcNow(), cancellationToken).ConfigureAwait(false))
        {
            logger.LogInformation("Usage of order {OrderId} was already recorded", id);
        }
    }
}
