using Azure;
using ThreePL.Domain.Common;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Orders;

/// <summary>The result of running a command: the committed order, or the rule it broke, or not found.</summary>
public sealed record OrderCommandResult(StoredOrder? Order, DomainError? Error, bool Changed)
{
    public bool NotFound => Order is null && Error is null;
}

/// <summary>What a command decided: the changed order (with its 3PL bookkeeping) and the events it caused.</summary>
public sealed record OrderDecision(StoredOrder Updated, IReadOnlyList<OrderEvent> Events);

/// <summary>
/// What finishes a command's work (publishing its events, sending its other messages, syncing the list rows), also if the
/// process dies right after its commit.
/// </summary>
public enum OrderRecovery
{
    /// <summary>
    /// The command sends its follow-up message before it commits, delayed, and releases it right after
    /// (<see cref="OrderFollowUpMessage"/>): its consumer publishes the change's messages, which ride on the change's
    /// history row (<see cref="Messaging.Outbox.Carry"/>). HTTP commands use it: their caller must not wait for a
    /// receiver, and nothing else would come back after a crash.
    /// </summary>
    FollowUp,

    /// <summary>
    /// The command runs inside a queue function whose message is deleted only when the function returns: a failure
    /// after the commit is thrown, the message comes back, and its handler finishes the work. No follow-up is sent,
    /// and its events are published in the function itself (<see cref="InlineRelay"/>); its messages ride on its
    /// history row like every order command's.
    /// </summary>
    MessageRedelivery,
}

/// <summary>
/// Runs a command against one order through <see cref="OptimisticCommand"/>: read, decide (pure), commit the row with
/// its history rows (carrying its messages) under the read ETag, then publish and sync the list rows; see
/// <see cref="OrderRecovery"/> for what repairs a crash after the commit.
/// </summary>
public sealed class OrderCommands(OrderStore store, OrderIndex index, Outbox outbox, OrderFollowUps followUps, InProcessFollowUps finisher, InlineRelay inlineRelay, AfterCommit afterCommit, TimeProvider time, OrderOptions options, ILogger<OrderCommands> logger)
{
    /// <param name="id">The order.</param>
    /// <param name="decide">The decision on the order as read.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <param name="recovery">What repairs a crash after the commit.</param>
    /// <param name="alreadyRead">The order as the caller just read it, used for the first attempt instead of a second read.</param>
    public async Task<OrderCommandResult> RunAsync(
        OrderId id,
        Func<StoredOrder, DateTimeOffset, (OrderDecision? Decision, DomainError? Error)> decide,
        CancellationToken cancellationToken,
        OrderRecovery recovery = OrderRecovery.FollowUp,
        StoredOrder? alreadyRead = null)
    {
        var first = alreadyRead;
        ListedVersion? decidedOn = null;
        var outcome = await OptimisticCommand.RunAsync<StoredOrder, OrderDecision>(
            token => Interlocked.Exchange(ref first, null) is { } read ? Task.FromResult<StoredOrder?>(read) : store.GetAsync(id, token),
            current =>
            {
                decidedOn = ListedVersion.Of(current);
                return decide(current, time.GetUtcNow());
            },
            decision => decision.Events.Count > 0,
            (decision, token) => CommitAsync(decision, decidedOn, recovery, token),
            cancellationToken).ConfigureAwait(false);
        return new OrderCommandResult(outcome.Stored, outcome.Error, outcome.Changed);
    }
    /// <summary>One domain transition of the order aggregate; the 3PL bookkeeping follows the delegation.</summary>
    /// <param name="alreadyRead">The order as the caller just read it (to check access), decided on first instead of a second read.</param>
    public Task<OrderCommandResult> TransitionAsync(OrderId id, Func<Order, DateTimeOffset, Outcome<OrderEvent>> transition, CancellationToken cancellationToken, StoredOrder? alreadyRead = null) =>
        RunAsync(id, (current, now) =>
        {
            var previous = current.Order.ConnectionId;
            var outcome = transition(current.Order, now);
            if (!outcome.Succeeded)
            {
                return (null, outcome.Error);
            }
            var updated = current;
            if (previous is { } released && current.Order.ConnectionId is null && current.ThreePlAccountId is { } threePl)
            {
                updated = current with
                {
                    ThreePlAccountId = null,
                    Released = current.Released.Where(r => r.ConnectionId != released).Append(new ReleasedDelegation(threePl, released)).ToList(),
                };
            }
            return (new OrderDecision(updated, outcome.Events), null);
        }, cancellationToken, alreadyRead: alreadyRead);

    /// <summary>
    /// Creates a new order; returns the existing one (not created) when the external id was seen before. The routing
    /// request is sent before the order is written, so no outbox row, relay or safety net is needed: if the insert
    /// never happens, routing finds no order and lets the message go (<see cref="RouteOrderFunction"/>); if the
    /// process dies after the insert, the message is already on its way. The merchant's list row is written here
    /// and, should this process die first, by routing.
    /// </summary>
    public async Task<(StoredOrder Order, bool Created)> CreateAsync(Order order, OrderReceived received, CancellationToken cancellationToken)
    {
        var stored = new StoredOrder(order, null, [], default) { FeedKeys = store.NewFeedKeys(order) };
        var routing = OrderMessages.RoutingRequest(stored, received);
        await outbox.SendAsync(routing.Message, cancellationToken).ConfigureAwait(false);
        if (await store.TryCreateAsync(stored, [received], routing.Marker, cancellationToken).ConfigureAwait(false) is not { } created)
        {
            var existing = await store.GetAsync(order.Id, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Order {order.Id} conflicted on insert but cannot be read.");
            return (existing, false);
        }
        await TrySyncListsAsync(created, null, expectNew: true, cancellationToken).ConfigureAwait(false);
        return (created, true);
    }

    /// <summary>
    /// Finishes the work of a command whose queue message came back (<see cref="OrderRecovery.MessageRedelivery"/>):
    /// publishes the messages carried by the changes after <paramref name="afterVersion"/> (the version the message
    /// named) that no follow-up message finishes, and brings its list rows in line. Idempotent.
    /// </summary>
    public async Task RecoverAsync(StoredOrder stored, long afterVersion, CancellationToken cancellationToken)
    {
        if (stored.Order.Version > afterVersion)
        {
            var carried = await store.CarriedMessagesAsync(stored.Order.Id, afterVersion, cancellationToken).ConfigureAwait(false);
            await inlineRelay.PublishAsync(carried, redelivered: true, cancellationToken).ConfigureAwait(false);
        }
        await index.SyncAsync(stored, expectNew: false, cancellationToken).ConfigureAwait(false);
    }

    private async Task<StoredOrder> CommitAsync(OrderDecision decision, ListedVersion? decidedOn, OrderRecovery recovery, CancellationToken cancellationToken)
    {
        var updated = decision.Updated;
        var order = updated.Order;
        var messages = OrderMessages.For(updated, decision.Events, e =>
            e.ConnectionId is not { } connection ? null
            : connection == order.ConnectionId ? updated.ThreePlAccountId?.Value
            : updated.Released.FirstOrDefault(r => r.ConnectionId == connection)?.ThreePlAccountId.Value, options.RequestDeadlineMaxDelay);
        var expectNew = decision.Events.Any(e => e is OrderDelegated);
        if (recovery == OrderRecovery.MessageRedelivery)
        {
            var committed = await CommitOrFindAsync(() => store.CommitAsync(updated, decision.Events, messages, cancellationToken), updated, messages.FirstOrDefault()?.Id, cancellationToken).ConfigureAwait(false);
            // A failure is thrown: the message that carried the command comes back and its handler recovers.
            await afterCommit.PublishCarriedAsync(token => inlineRelay.PublishAsync(messages, redelivered: false, token), cancellationToken).ConfigureAwait(false);
            await index.SyncAsync(committed, expectNew, cancellationToken, decidedOn).ConfigureAwait(false);
            return committed;
        }
        var followUp = await followUps.SendAsync(order.Id, order.Version, updated.ETag, cancellationToken).ConfigureAwait(false);
        StoredOrder done;
        try
        {
            done = await CommitOrFindAsync(() => store.CommitAsync(updated, decision.Events, messages, cancellationToken, followUp.MessageId), updated, followUp.MessageId, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (OptimisticCommand.LostRace(ex))
        {
            // Nothing was written (the command will read again, decide anew and send a follow-up of its own).
            await followUps.DeleteAsync(followUp, cancellationToken).ConfigureAwait(false);
            throw;
        }
        await afterCommit.ReleaseFollowUpAsync(async token =>
        {
            var synced = await TrySyncListsAsync(done, decidedOn, expectNew, token).ConfigureAwait(false);
            await finisher.FinishAsync(followUp, messages, synced, token).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        return done;
    }

    /// <summary>
    /// Commits; when the commit seems lost to a race (412, 409, 404), asks the change's history row whether it is this
    /// commit after all: the storage client retries a transaction whose answer it did not get, and a retry of one that
    /// did commit fails on its own write. Without this the command would decide again on its own change and its events
    /// would never go out. <paramref name="carriedId"/> is a message the change carries (or its follow-up's id); a
    /// change that carries none cannot be recognised, and its apparent loss is left to the caller.
    /// </summary>
    private async Task<StoredOrder> CommitOrFindAsync(Func<Task<StoredOrder>> commit, StoredOrder updated, string? carriedId, CancellationToken cancellationToken)
    {
        var order = updated.Order;
        try
        {
            return await commit().ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (OptimisticCommand.LostRace(ex) && carriedId is not null)
        {
            if (!await store.CommittedAsync(order.Id, order.Version, carriedId, cancellationToken).ConfigureAwait(false))
            {
                throw;
            }
            logger.LogInformation("Order {OrderId} v{Version} was committed by a retried transaction", order.Id, order.Version);
            // The row as it is now, when no newer change followed; otherwise the change without an ETag, which no later
            // write of this command needs.
            return await store.GetAsync(order.Id, cancellationToken).ConfigureAwait(false) is { } stored && stored.Order.Version == order.Version
                ? updated with { ETag = stored.ETag, FeedKeys = stored.FeedKeys, Marker = null }
                : updated with { ETag = default, Marker = null };
        }
    }

    /// <summary>
    /// Syncs the list rows of a committed change whose caller must hear that it committed: a failure is logged, not
    /// thrown, and repaired by the command's follow-up message (or, for intake, by routing). True when synced.
    /// </summary>
    private async Task<bool> TrySyncListsAsync(StoredOrder committed, ListedVersion? previous, bool expectNew, CancellationToken cancellationToken)
    {
        try
        {
            await index.SyncAsync(committed, expectNew, cancellationToken, previous).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is RequestFailedException or HttpRequestException or InvalidOperationException or OperationCanceledException)
        {
            logger.LogWarning(ex, "Index sync of order {OrderId} failed; the order's next message repairs it", committed.Order.Id);
            return false;
        }
    }
}
