using Azure;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Audit;
using ThreePL.Functions.Infrastructure;
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
/// Runs a command against one connection through <see cref="OptimisticCommand"/>: read, decide (pure), commit the
/// row with its audit and outbox rows under the read ETag, relay.
/// </summary>
public sealed class ConnectionCommands(ConnectionStore store, Outbox outbox, LocalChanges changes, HandBackOptions handBack, TimeProvider time)
{
    public async Task<ConnectionCommandResult> RunAsync(
        ConnectionId id,
        Func<StoredConnection, DateTimeOffset, (ConnectionDecision? Decision, DomainError? Error)> decide,
        CancellationToken cancellationToken)
    {
        var outcome = await OptimisticCommand.RunAsync<StoredConnection, ConnectionDecision>(
            token => store.GetAsync(id, token),
            current => decide(current, time.GetUtcNow()),
            decision => decision.ChangesAnything,
            (decision, token) => CommitAsync(id, decision, token),
            cancellationToken).ConfigureAwait(false);
        return new ConnectionCommandResult(outcome.Stored, outcome.Error, outcome.Changed);
    }

    private async Task<StoredConnection> CommitAsync(ConnectionId id, ConnectionDecision decision, CancellationToken cancellationToken)
    {
        var messages = ConnectionMessages.For(decision.Updated, decision.Events, handBack.Settle);
        var armed = messages.Count > 0 ? await outbox.ArmAsync(ConnectionStore.TableName, id.Value, cancellationToken).ConfigureAwait(false) : null;
        ETag etag;
        try
        {
            etag = await store.CommitAsync(decision.Updated, decision.SettingsChanged, decision.Audit ?? [], messages, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (armed is not null && OptimisticCommand.LostRace(ex))
        {
            // The storage client sends a transaction again when it lost the answer, and a retry of one that committed
            // fails on its own write: the change's own outbox row tells that apart from a race really lost.
            if (!await outbox.HoldsAsync(ConnectionStore.TableName, id.Value, messages[0], cancellationToken).ConfigureAwait(false))
            {
                // Nothing was written, so there is nothing for the safety net to finish.
                await outbox.DisarmAsync(armed, cancellationToken).ConfigureAwait(false);
                throw;
            }
            etag = (await store.GetAsync(id, cancellationToken).ConfigureAwait(false))?.ETag ?? default;
        }
        changes.Connection(id);
        if (await outbox.RelayAfterCommitAsync(ConnectionStore.TableName, id.Value, messages, cancellationToken).ConfigureAwait(false) && armed is not null)
        {
            await outbox.DisarmAsync(armed, cancellationToken).ConfigureAwait(false);
        }
        return decision.Updated with { ETag = etag };
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
