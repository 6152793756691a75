namespace ThreePL.Functions.Messaging;

/// <summary>
/// Publishes an event where it was committed: the catch-up feed and the webhooks, as the <c>events</c> queue's
/// consumer would. A queue function uses it instead of that queue, since its own message comes back if it dies first.
/// </summary>
public interface IEventPublisher
{
    /// <param name="envelope">The event.</param>
    /// <param name="redelivered">The work is being repeated after a run that may have died half-way.</param>
    /// <param name="cancellationToken">Cancels the publication.</param>
    Task PublishAsync(EventEnvelope envelope, bool redelivered, CancellationToken cancellationToken);
}
