using System.Text.Json;
using ThreePL.Domain.Common;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Billing;

/// <summary>
/// A usage message as earlier versions sent it; only ids travel, the order row is the truth. A message without
/// <see cref="ShipmentId"/> (sent before split shipments) means the order's first shipment.
/// </summary>
public sealed record RecordUsageMessage(string OrderId, string? ShipmentId = null)
{
    public const string Queue = "billing";
}

/// <summary>
/// Queue <c>billing</c>: usage messages that versions before <see cref="BillShipments"/> sent through the ship's
/// outbox. Nothing sends to it any more; it stays so that messages in flight during an upgrade are still billed.
/// </summary>
public sealed class RecordUsageFunction(UsageRecorder recorder, ILogger<RecordUsageFunction> logger)
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
        await recorder.RecordAsync(id, message.ShipmentId, cancellationToken).ConfigureAwait(false);
    }
}
