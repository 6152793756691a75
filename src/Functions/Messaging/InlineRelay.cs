namespace ThreePL.Functions.Messaging;

/// <summary>
/// The relay of a command that a queue message carries. Its events are published here rather than sent through the
/// <c>events</c> queue, which spares a send, a receive and a delete per event; its messages ride on a row the change
/// writes anyway (<see cref="Outbox.Carry"/>), which spares the outbox row's delete. If the process dies before it
/// has published them, the carrying message comes back and its handler publishes them again, with
/// <c>redelivered</c> set so that a delivery whose creator died before its first attempt is still attempted.
/// Other messages (delayed ones included) go to their queues as usual. Failures are thrown, never swallowed: the
/// carrying message must come back.
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

    /// <summary>Publishes or sends messages of outbox rows, then deletes the rows.</summary>
    public async Task RelayAsync(string table, string partitionKey, IReadOnlyCollection<OutboxMessage> messages, bool redelivered, CancellationToken cancellationToken)
    {
        if (messages.Count == 0)
        {
            return;
        }
        await PublishAsync(messages, redelivered, cancellationToken).ConfigureAwait(false);
        await outbox.DeleteRowsAsync(table, partitionKey, messages, cancellationToken).ConfigureAwait(false);
    }

    public async Task RelayPendingAsync(string table, string partitionKey, CancellationToken cancellationToken)
    {
        var pending = await outbox.ReadPendingAsync(table, partitionKey, cancellationToken).ConfigureAwait(false);
        await RelayAsync(table, partitionKey, pending, redelivered: true, cancellationToken).ConfigureAwait(false);
    }
}
