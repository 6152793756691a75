using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Tests.Infrastructure;

/// <summary>
/// The app as if its process died right after each commit: nothing is relayed inline, an order command neither syncs
/// its list rows nor releases its follow-up message (which arrives after its delay), and a command carried by a queue
/// message fails there, so (as when the process dies) the message is not deleted and comes back.
/// </summary>
public sealed class DiesAfterCommit : AfterCommit
{
    public override Task<bool> RelayOutboxAsync(Func<CancellationToken, Task<bool>> relay, CancellationToken cancellationToken) => Task.FromResult(false);

    public override Task ReleaseFollowUpAsync(Func<CancellationToken, Task> release, CancellationToken cancellationToken) => Task.CompletedTask;

    public override Task PublishCarriedAsync(Func<CancellationToken, Task> publish, CancellationToken cancellationToken) =>
        throw new ProcessDiedAfterCommitException();
}

/// <summary>What <see cref="DiesAfterCommit"/> throws where the process would have died.</summary>
public sealed class ProcessDiedAfterCommitException()
    : Exception("The app is composed to stop right after each commit; the message will come back.");
