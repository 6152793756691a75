namespace ThreePL.Functions.Messaging;

/// <summary>
/// The relay of a command that a queue message carries (routing), or that a queue message finishes (an order command's
/// follow-up, which publishes what the command committed). Its events are published here rather than sent through the
/// <c>events</c> queue, which spares a send, a receive and a delete per event; its messages ride on a row the change
/// writes anyway (<see cref="Outbox.Carry"/>), which spares the outbox row's delete. If the process dies before it
/// has published them, the carrying message comes back and its handler publishes them again, with
/// <c>redelivered</c> set so that a delivery whose creator died before its first attempt is still attempted.
/// Other messages (delayed ones included) go to their queues as usual. Failures are thrown, never swallowed: the
/// carrying message must come back. Only the command's own carried messages are published here, never another
/// command's outbox rows: a delivery whose creator died is retried only by a redelivery of the creator's own message
/// (a redelivered routing or follow-up message here, a redelivered <c>events</c> message for a relayed row), so two kinds of
/// publisher must never race for one event.
/// </summary>
public sealed class InlineRelay(Outbox outbox, IEventPublisher events)
{
    /// <summary>Publishes or sends messages that have no outbox row (<see cref="Outbox.Carry"/>).</summary>
    public async Task PublishAsync(IEnumerable<OutboxMessage> messages, bool redelivered, CancellationToken cancellationToken)
    {
        foreach (var message in messages)
        {
            if (message.Queue == EventEnvelope.Queue && message.Delay == TimeSpan.Zero)
            {
                await events.PublishAsync(EventEnvelope.Parse(message.Body), redelivered, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await outbox.SendAsync(message, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
