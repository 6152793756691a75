using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Webhooks;

/// <summary>
/// Consumes the internal <c>events</c> queue: records every event in the catch-up feed, runs the app's own
/// subscribers (<see cref="IEventSubscriber"/>, e.g. billing on <c>order.shipped</c>), and fans it out to its webhooks.
/// Idempotent by event id:
/// the fan-out keys each delivery by (event id, destination), and the catch-up feed upserts by (event id, time). The
/// e-mails of the connection workflow are not sent from here: its Durable orchestration sends them. Queue functions
/// that commit events publish them through it directly (<see cref="IEventPublisher"/>).
/// </summary>
public sealed class EventDispatcher(WebhookFanOut webhooks, Events.EventFeed feed, IEnumerable<IEventSubscriber> subscribers) : IEventPublisher
{
    [Function("DispatchEvent")]
    public Task RunAsync([QueueTrigger(QueueBinding.Prefix + EventEnvelope.Queue, Connection = QueueBinding.Connection)] Azure.Storage.Queues.Models.QueueMessage message, CancellationToken cancellationToken) =>
        HandleAsync(QueueDelivery.From(message), cancellationToken);

    public Task HandleAsync(QueueDelivery trigger, CancellationToken cancellationToken) =>
        PublishAsync(EventEnvelope.Parse(trigger.MessageText), redelivered: trigger.DequeueCount > 1, cancellationToken);

    public async Task PublishAsync(EventEnvelope envelope, bool redelivered, CancellationToken cancellationToken)
    {
        // Recorded first: an event whose webhook went out is always in the catch-up feed (GET /v1/events).
        await feed.RecordAsync(envelope, cancellationToken).ConfigureAwait(false);
        foreach (var subscriber in subscribers)
        {
            await subscriber.OnEventAsync(envelope, cancellationToken).ConfigureAwait(false);
        }
        await webhooks.PublishAsync(envelope, redelivered, cancellationToken).ConfigureAwait(false);
    }
}
