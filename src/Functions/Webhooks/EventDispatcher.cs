using ThreePL.Functions.Events;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Webhooks;

/// <summary>
/// Consumes the internal <c>events</c> queue: records every event in the catch-up feed (for an account with a webhook
/// destination for it, in the insert of that delivery), runs the app's own
/// subscribers (<see cref="IEventSubscriber"/>, e.g. billing on <c>order.shipped</c>), and fans it out to its webhooks.
/// Idempotent by event id:
/// the fan-out keys each delivery by (event id, destination), and the catch-up feed upserts by (event id, time). The
/// e-mails of the connection workflow are not sent from here: its Durable orchestration sends them. Queue functions
/// that commit events publish them through it directly (<see cref="IEventPublisher"/>).
/// </summary>
public sealed class EventDispatcher(WebhookFanOut webhooks, EventFeed feed, IEnumerable<IEventSubscriber> subscribers) : IEventPublisher
{
    [Function("DispatchEvent")]
    public Task RunAsync([QueueTrigger(QueueBinding.Prefix + EventEnvelope.Queue, Connection = QueueBinding.Connection)] Azure.Storage.Queues.Models.QueueMessage message, CancellationToken cancellationToken) =>
        HandleAsync(QueueDelivery.From(message), cancellationToken);

    public Task HandleAsync(QueueDelivery trigger, CancellationToken cancellationToken) =>
        PublishAsync(EventEnvelope.Parse(trigger.MessageText), redelivered: trigger.DequeueCount > 1, cancellationToken);

    public async Task PublishAsync(EventEnvelope envelope, bool redelivered, CancellationToken cancellationToken)
    {
        var destinations = await webhooks.DestinationsAsync(envelope, cancellationToken).ConfigureAwait(false);
        var accounts = EventFeed.Accounts(envelope).ToList();
        // An account with a destination for the event shares a partition with that delivery, so its catch-up rows ride in
        // the delivery's insert (a first publication makes it) instead of a write of their own. Any other account's rows,
        // and every account's on a redelivery, are recorded first, so an event whose webhook went out is in the feed.
        var carriers = redelivered
            ? []
            : destinations.Where(d => accounts.Contains(d.Owner)).GroupBy(d => d.Owner).ToDictionary(g => g.Key, g => g.First().Destination);
        foreach (var account in accounts.Where(a => !carriers.ContainsKey(a)))
        {
            await feed.RecordAsync(envelope, account, cancellationToken).ConfigureAwait(false);
        }
        foreach (var subscriber in subscribers)
        {
            await subscriber.OnEventAsync(envelope, cancellationToken).ConfigureAwait(false);
        }
        var riding = carriers.ToDictionary(c => c.Value, c => feed.RowsToRide(envelope, c.Key), StringComparer.Ordinal);
        var inserted = await webhooks.DeliverAsync(envelope, destinations, redelivered, riding.ToDictionary(r => r.Key, r => r.Value.Rows, StringComparer.Ordinal), cancellationToken).ConfigureAwait(false);
        foreach (var (owner, destination) in carriers)
        {
            // A delivery another copy of the work inserted may not carry the rows: record them on their own then.
            await (inserted.Contains(destination)
                ? feed.RekeyIfLateAsync(envelope, owner, riding[destination].KeyTime, cancellationToken)
                : feed.RecordAsync(envelope, owner, cancellationToken)).ConfigureAwait(false);
        }
    }
}
