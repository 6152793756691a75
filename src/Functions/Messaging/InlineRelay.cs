namespace ThreePL.Functions.Messaging;

/// <summary>
/// The relay of a command that a queue message carries. Its events are published here rather than sent through the
/// <c>events</c> queue, which spares a send, a receive and a delete per event: if the process dies before the outbox
/// rows are deleted, the carrying message comes back and <see cref="RelayPendingAsync"/> publishes them again, with
/// <c>redelivered</c> set so that a delivery whose creator died before its first attempt is still attempted.
/// Other messages (delayed ones included) go to their queues as usual. Failures are thrown, never swallowed: the
/// carrying message must come back.
/// </summary>
public sealed class InlineRelay(Outbox outbox, IEventPublisher events)
{
    public async Task RelayAsync(string table, string partitionKey, IReadOnlyCollection<OutboxMessage> messages, bool redelivered, CancellationToken cancellationToken)
    {
        if (messages.Count == 0)
        {
            return;
        }
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
        await outbox.DeleteRowsAsync(table, partitionKey, messages, cancellationToken).ConfigureAwait(false);
    }

    public async Task RelayPendingAsync(string table, string partitionKey, CancellationToken cancellationToken)
    {
        var pending = await outbox.ReadPendingAsync(table, partitionKey, cancellationToken).ConfigureAwait(false);
        await RelayAsync(table, partitionKey, pending, redelivered: true, cancellationToken).ConfigureAwait(false);
    }
}
