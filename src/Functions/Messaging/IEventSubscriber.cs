namespace ThreePL.Functions.Messaging;

/// <summary>
/// Work inside the app that an event causes, run by whoever publishes the event, after it is in the catch-up feed and
/// before its webhooks. At least once per event, like the publication itself, so it must be idempotent; a failure is
/// thrown, and the message that made the publisher publish comes back. A feature reacts to another's events this way
/// without either knowing the other.
/// </summary>
public interface IEventSubscriber
{
    Task OnEventAsync(EventEnvelope envelope, CancellationToken cancellationToken);
}
