namespace ThreePL.Functions.Messaging;

/// <summary>
/// The moment right after a command's commit, when it relays what it committed. Here it simply runs the relay; it is
/// a seam, not a setting: a crash test registers its own to model a process that dies at exactly this moment (nothing
/// relayed or released, so the safety net, the follow-up message or the returning queue message must deliver), and no
/// deployment can.
/// </summary>
public class AfterCommit
{
    /// <summary>Relays a committed partition's outbox rows; true when every message went out.</summary>
    public virtual Task<bool> RelayOutboxAsync(Func<CancellationToken, Task<bool>> relay, CancellationToken cancellationToken) => relay(cancellationToken);

    /// <summary>Publishes what a command carried by a queue message committed without outbox rows.</summary>
    public virtual Task PublishCarriedAsync(Func<CancellationToken, Task> publish, CancellationToken cancellationToken) => publish(cancellationToken);

    /// <summary>Syncs an order command's list rows and releases its follow-up message (<c>OrderFollowUps</c>).</summary>
    public virtual Task ReleaseFollowUpAsync(Func<CancellationToken, Task> release, CancellationToken cancellationToken) => release(cancellationToken);
}
