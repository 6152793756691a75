using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Webhooks;

/// <summary>
/// Consumes the internal <c>events</c> queue and fans every event out to its webhooks. Idempotent by event id:
/// the fan-out keys each delivery by (event id, destination). The e-mails of the connection workflow are not
/// sent from here: its Durable orchestration sends them.
/// </summary>
public sealed class EventDispatcher(WebhookFanOut webhooks)
{
    [Function("DispatchEvent")]
    public Task RunAsync([QueueTrigger(QueueBinding.Prefix + EventEnvelope.Queue, Connection = QueueBinding.Connection)] Azure.Storage.Queues.Models.QueueMessage message, CancellationToken cancellationToken) =>
        HandleAsync(QueueDelivery.From(message), cancellationToken);

    public Task HandleAsync(QueueDelivery trigger, CancellationToken cancellationToken) =>
        webhooks.PublishAsync(EventEnvelope.Parse(trigger.MessageText), redelivered: trigger.DequeueCount > 1, cancellationToken);
}
