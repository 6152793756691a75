using System.Text.Json;
using System.Text.Json.Serialization;
using Azure.Storage.Queues;
using ThreePL.Domain.Common;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Webhooks;

/// <summary>
/// The work item on queue <c>webhook-deliveries</c>: attempt <see cref="Attempt"/> of one delivery.
/// <see cref="OwnerAccountId"/> names the partition the delivery is in (<see cref="WebhookDeliveryStore"/>); it is
/// null for a delivery in the legacy layout, and in a message sent before messages carried it, which can only name
/// such a delivery.
/// </summary>
public sealed record DeliveryMessage(string DeliveryId, int Attempt, bool Manual = false, string? OwnerAccountId = null)
{
    public const string Queue = "webhook-deliveries";

    public static DeliveryMessage For(WebhookDelivery delivery, int attempt, bool manual = false) =>
        new(delivery.Id, attempt, manual, delivery.Legacy ? null : delivery.OwnerAccountId.Value);

    /// <summary>The owner to look the delivery up under, if the message names a valid one.</summary>
    [JsonIgnore]
    public AccountId? Owner => AccountId.TryParse(OwnerAccountId, out var owner) ? owner : null;
}

/// <summary>The queue mechanics of deliveries: which message asks for which attempt, and when it becomes visible.</summary>
public sealed class DeliveryQueue(QueueServiceClient queues, StorageNames names, TimeProvider time)
{
    /// <summary>Longest delay a storage queue accepts; the retry schedule stays far below it.</summary>
    private static readonly TimeSpan MaxQueueDelay = TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1);

    private QueueClient Client => queues.GetQueueClient(names.Queue(DeliveryMessage.Queue));

    /// <summary>Asks for the delivery's next attempt at its <see cref="WebhookDelivery.NextAttemptAt"/> (now if unset).</summary>
    public Task EnqueueNextAsync(WebhookDelivery delivery, CancellationToken cancellationToken) =>
        SendAsync(DeliveryMessage.For(delivery, delivery.Attempts + 1), (delivery.NextAttemptAt ?? time.GetUtcNow()) - time.GetUtcNow(), cancellationToken);

    /// <summary>Sends <paramref name="message"/>, visible after <paramref name="delay"/> (clamped to what a queue accepts).</summary>
    public Task SendAsync(DeliveryMessage message, TimeSpan delay, CancellationToken cancellationToken)
    {
        delay = delay < TimeSpan.Zero ? TimeSpan.Zero : delay > MaxQueueDelay ? MaxQueueDelay : delay;
        return Client.SendAfterAsync(JsonSerializer.Serialize(message, EventEnvelope.Json), delay, cancellationToken);
    }
}
