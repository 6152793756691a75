using Azure;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Audit;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Connections;

/// <summary>What a command decided: the changed connection, the events it caused and how to record it.</summary>
public sealed record ConnectionDecision(
    StoredConnection Updated,
    IReadOnlyList<ConnectionEvent> Events,
    bool SettingsChanged = false,
    IReadOnlyList<AuditRecord>? Audit = null,
    bool SecretsChanged = false)
{
    public bool ChangesAnything => Events.Count > 0 || SettingsChanged || SecretsChanged;
}

/// <summary>The result of running a command: the committed connection, or the rule it broke, or not found.</summary>
public sealed record ConnectionCommandResult(StoredConnection? Connection, DomainError? Error, bool Changed)
{
    public bool NotFound => Connection is null && Error is null;
}

/// <summary>
/// Runs a command against one connection with optimistic concurrency: read, decide (pure), commit the row
/// with its audit and outbox rows under the read ETag, relay. A 412 means another command won the race; we
/// read again and decide again, so the loser sees the winner's state (approve racing cancel: one of them
/// gets <c>invalid_transition</c>).
/// </summary>
public sealed class ConnectionCommands(ConnectionStore store, Outbox outbox, TimeProvider time)
{
    private const int MaxAttempts = 10;

    public async Task<ConnectionCommandResult> RunAsync(
        ConnectionId id,
        Func<StoredConnection, DateTimeOffset, (ConnectionDecision? Decision, DomainError? Error)> decide,
        CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                return new ConnectionCommandResult(null, null, false);
            }
            var now = time.GetUtcNow();
            var (decision, error) = decide(current, now);
            if (error is not null)
            {
                return new ConnectionCommandResult(current, error, false);
            }
            if (decision is null || !decision.ChangesAnything)
            {
                return new ConnectionCommandResult(current, null, false);
            }
            var messages = ConnectionMessages.For(decision.Updated, decision.Events);
            try
            {
                if (messages.Count > 0)
                {
                    await outbox.ArmAsync(ConnectionStore.TableName, id.Value, cancellationToken).ConfigureAwait(false);
                }
                var etag = await store.CommitAsync(decision.Updated, decision.SettingsChanged, decision.Audit ?? [], messages, cancellationToken).ConfigureAwait(false);
                await outbox.RelayAfterCommitAsync(ConnectionStore.TableName, id.Value, messages, cancellationToken).ConfigureAwait(false);
                return new ConnectionCommandResult(decision.Updated with { ETag = etag }, null, true);
            }
            catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status412PreconditionFailed && attempt < MaxAttempts)
            {
                await Task.Delay(Random.Shared.Next(5, 20 * attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The common case: one domain transition by an actor, audited as its event type.</summary>
    public Task<ConnectionCommandResult> TransitionAsync(
        ConnectionId id,
        AuditActor actor,
        Func<Connection, DateTimeOffset, Outcome<ConnectionEvent>> transition,
        CancellationToken cancellationToken) =>
        RunAsync(id, (current, now) =>
        {
            var outcome = transition(current.Connection, now);
            if (!outcome.Succeeded)
            {
                return (null, outcome.Error);
            }
            var audit = outcome.Events
                .Select(e => AuditRecord.Create(now, e.Type, actor, id))
                .ToList();
            return (new ConnectionDecision(current, outcome.Events, Audit: audit), null);
        }, cancellationToken);
}
