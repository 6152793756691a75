using System.Text.Json;
using Azure.Storage.Queues;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Webhooks;

/// <summary>The work item on queue <c>webhook-deliveries</c>: attempt <see cref="Attempt"/> of one delivery.</summary>
public sealed record DeliveryMessage(string DeliveryId, int Attempt, bool Manual = false)
{
    public const string Queue = "webhook-deliveries";
}

/// <summary>The queue mechanics of deliveries: which message asks for which attempt, and when it becomes visible.</summary>
public sealed class DeliveryQueue(QueueServiceClient queues, StorageNames names, TimeProvider time)
{
    /// <summary>Longest delay a storage queue accepts; the retry schedule stays far below it.</summary>
    private static readonly TimeSpan MaxQueueDelay = TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1);

    private QueueClient Client => queues.GetQueueClient(names.Queue(DeliveryMessage.Queue));

    /// <summary>Asks for the delivery's next attempt at its <see cref="WebhookDelivery.NextAttemptAt"/> (now if unset).</summary>
    public Task EnqueueNextAsync(WebhookDelivery delivery, CancellationToken cancellationToken) =>
        SendAsync(new DeliveryMessage(delivery.Id, delivery.Attempts + 1), (delivery.NextAttemptAt ?? time.GetUtcNow()) - time.GetUtcNow(), cancellationToken);

    /// <summary>Sends <paramref name="message"/>, visible after <paramref name="delay"/> (clamped to what a queue accepts).</summary>
    public Task SendAsync(DeliveryMessage message, TimeSpan delay, CancellationToken cancellationToken)
    {
        delay = delay < TimeSpan.Zero ? TimeSpan.Zero : delay > MaxQueueDelay ? MaxQueueDelay : delay;
        return Client.SendAfterAsync(JsonSerializer.Serialize(message, EventEnvelope.Json), delay, cancellationToken);
    }
}
