using System.Text.Json;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Messaging;
using ThreePL.Functions.Orders;

namespace ThreePL.Functions.Billing;

/// <summary>
/// Asks billing to record the order fee of one shipment; only ids travel, the order row is the truth. A message
/// without <see cref="ShipmentId"/> (sent before split shipments) means the order's first shipment.
/// </summary>
public sealed record RecordUsageMessage(string OrderId, string? ShipmentId = null)
{
    public const string Queue = "billing";

    /// <summary>The outbox message the ship commit carries; its id is fixed per shipment.</summary>
    public static OutboxMessage For(OrderId order, string shipmentId) =>
        new("bil_" + shipmentId, Queue, JsonSerializer.Serialize(new RecordUsageMessage(order.Value, shipmentId), EventEnvelope.Json));
}

/// <summary>
/// Records one usage line per shipment (queue <c>billing</c>, sent through the order's outbox in the same
/// transaction as the ship). It reads the order, bills the account its delegation snapshot names
/// (<c>orderFeeBilledTo</c>: the 3PL of the connection or the merchant) and inserts the line under a key derived
/// from the order and the shipment alone, so a re-delivered or re-relayed message finds the row and does nothing.
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
        var shipment = stored?.Order.Shipments.FirstOrDefault(s => message.ShipmentId is null || s.Id == message.ShipmentId);
        if (stored is not { Order: { Delegation: { } delegation } order } || shipment is null || stored.ThreePlAccountId is not { } threePl)
        {
            logger.LogWarning("Order {OrderId} has no shipment {ShipmentId} under a delegation; no usage recorded", id, message.ShipmentId);
            return;
        }
        var billed = delegation.OrderFeeBilledTo == SettingsOwner.ThreePl ? threePl : order.MerchantAccountId;
        var line = new UsageLine(billed, delegation.OrderFeeBilledTo, order.Id, order.ExternalId, delegation.ConnectionId,
            order.MerchantAccountId, threePl, shipment.ShippedAt, shipment.Carrier, shipment.Service, shipment.TrackingNumber)
        {
            ShipmentId = shipment.Id == order.Shipments[0].Id ? null : shipment.Id,
        };
        if (!await usage.TryRecordAsync(line, time.GetUtcNow(), cancellationToken).ConfigureAwait(false))
        {
            logger.LogInformation("Usage of order {OrderId} was already recorded", id);
        }
    }
}
