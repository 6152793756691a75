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
/// What finishes a command's work if the process dies right after its commit (the outbox relay and the list rows).
/// </summary>
public enum OrderRecovery
{
    /// <summary>The command arms the outbox safety net before it commits (HTTP commands: nothing else would come back).</summary>
    SafetyNet,

    /// <summary>
    /// The command runs inside a queue function whose message is deleted only when the function returns: a failure
    /// after the commit is thrown, the message comes back, and its handler finishes the work. No safety net is armed,
    /// which saves a send, a receive, a delete and the re-drive's reads on every such command, and its events are
    /// published in the function itself (<see cref="InlineRelay"/>), not through the <c>events</c> queue, and its messages
    /// ride on its history row rather than outbox rows (<see cref="Messaging.Outbox.Carry"/>).
    /// </summary>
    MessageRedelivery,
}

/// <summary>
/// Runs a command against one order through <see cref="OptimisticCommand"/>: read, decide (pure), commit the row with
/// its history and outbox rows under the read ETag, relay, then sync the list rows; see <see cref="OrderRecovery"/>
/// for what repairs a crash after the commit.
/// </summary>
public sealed class OrderCommands(OrderStore store, OrderIndex index, Outbox outbox, InlineRelay inlineRelay, AfterCommit afterCommit, TimeProvider time, OrderOptions options, ILogger<OrderCommands> logger)
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
        OrderRecovery recovery = OrderRecovery.SafetyNet,
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
        var stored = new StoredOrder(order, null, [], default);
        var routing = OrderMessages.RoutingRequest(order, received);
        await outbox.SendAsync(routing, cancellationToken).ConfigureAwait(false);
        var etag = await store.TryCreateAsync(stored, [received], [], OrderStore.ReceivedMarker(routing.Id), cancellationToken).ConfigureAwait(false);
        if (etag is null)
        {
            var existing = await store.GetAsync(order.Id, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Order {order.Id} conflicted on insert but cannot be read.");
            return (existing, false);
        }
        stored = stored with { ETag = etag.Value };
        await AfterCommitAsync(stored, null, [], expectNew: true, OrderRecovery.SafetyNet, cancellationToken).ConfigureAwait(false);
        return (stored, true);
    }

    /// <summary>
    /// Finishes the work of a command whose queue message came back (<see cref="OrderRecovery.MessageRedelivery"/>):
    /// relays whatever outbox rows the order still holds, publishes the messages carried by the changes after
    /// <paramref name="afterVersion"/> (the version the message named), and brings its list rows in line. Idempotent.
    /// </summary>
    public async Task RecoverAsync(StoredOrder stored, long afterVersion, CancellationToken cancellationToken)
    {
        // Other commands' outbox rows go to their queues as their own relay would send them: only the events queue's
        // consumer may create their deliveries, so that a consumer that dies half-way is the one whose message comes back.
        await outbox.RelayPendingAsync(OrderStore.TableName, stored.Order.Id.Value, cancellationToken).ConfigureAwait(false);
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
        var armed = recovery == OrderRecovery.SafetyNet
            ? await outbox.ArmAsync(OrderStore.TableName, order.Id.Value, cancellationToken).ConfigureAwait(false)
            : null;
        ETag etag;
        try
        {
            etag = await store.CommitAsync(updated, decision.Events, messages, cancellationToken, carried: recovery == OrderRecovery.MessageRedelivery).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (armed is not null && OptimisticCommand.LostRace(ex))
        {
            // Nothing was written (the command will read again and decide anew), so there is nothing to finish.
            await outbox.DisarmAsync(armed, cancellationToken).ConfigureAwait(false);
            throw;
        }
        var committed = updated with { ETag = etag, Marker = null };
        if (await AfterCommitAsync(committed, decidedOn, messages, decision.Events.Any(e => e is OrderDelegated), recovery, cancellationToken).ConfigureAwait(false) && armed is not null)
        {
            await outbox.DisarmAsync(armed, cancellationToken).ConfigureAwait(false);
        }
        return committed;
    }

    /// <summary>
    /// With a safety net armed, relay and index sync are repeated by it, so a failure here is logged, not thrown: the
    /// change is committed and the caller must hear that it was. Without one, a failure is thrown so the message
    /// that carried the command comes back and its handler recovers. True when all of the work is done.
    /// </summary>
    private async Task<bool> AfterCommitAsync(StoredOrder committed, ListedVersion? previous, IReadOnlyCollection<OutboxMessage> messages, bool expectNew, OrderRecovery recovery, CancellationToken cancellationToken)
    {
        if (recovery == OrderRecovery.MessageRedelivery)
        {
            await afterCommit.PublishCarriedAsync(token => inlineRelay.PublishAsync(messages, redelivered: false, token), cancellationToken).ConfigureAwait(false);
            await index.SyncAsync(committed, expectNew, cancellationToken, previous).ConfigureAwait(false);
            return true;
        }
        var relayed = await outbox.RelayAfterCommitAsync(OrderStore.TableName, committed.Order.Id.Value, messages, cancellationToken).ConfigureAwait(false);
        try
        {
            await index.SyncAsync(committed, expectNew, cancellationToken, previous).ConfigureAwait(false);
            return relayed;
        }
        catch (Exception ex) when (ex is RequestFailedException or HttpRequestException or InvalidOperationException or OperationCanceledException)
        {
            logger.LogWarning(ex, "Index sync of order {OrderId} failed; the safety net will repeat it", committed.Order.Id);
            return false;
        }
    }
}
