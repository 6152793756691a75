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
/// Runs a command against one order through <see cref="OptimisticCommand"/>: read, decide (pure), arm the outbox
/// safety net, commit the row with its history and outbox rows under the read ETag, relay, then sync the list rows.
/// </summary>
public sealed class OrderCommands(OrderStore store, OrderIndex index, Outbox outbox, TimeProvider time, OrderOptions options, ILogger<OrderCommands> logger)
{
    public async Task<OrderCommandResult> RunAsync(
        OrderId id,
        Func<StoredOrder, DateTimeOffset, (OrderDecision? Decision, DomainError? Error)> decide,
        CancellationToken cancellationToken)
    {
        var outcome = await OptimisticCommand.RunAsync<StoredOrder, OrderDecision>(
            token => store.GetAsync(id, token),
            current => decide(current, time.GetUtcNow()),
            decision => decision.Events.Count > 0,
            CommitAsync,
            cancellationToken).ConfigureAwait(false);
        return new OrderCommandResult(outcome.Stored, outcome.Error, outcome.Changed);
    }

    /// <summary>One domain transition of the order aggregate; the 3PL bookkeeping follows the delegation.</summary>
    public Task<OrderCommandResult> TransitionAsync(OrderId id, Func<Order, DateTimeOffset, Outcome<OrderEvent>> transition, CancellationToken cancellationToken) =>
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
        }, cancellationToken);

    /// <summary>Creates a new order; returns the existing one (not created) when the external id was seen before.</summary>
    public async Task<(StoredOrder Order, bool Created)> CreateAsync(Order order, OrderReceived received, CancellationToken cancellationToken)
    {
        var stored = new StoredOrder(order, null, [], default);
        var messages = OrderMessages.For(stored, [received], _ => null, options.RequestDeadlineMaxDelay);
        await outbox.ArmAsync(OrderStore.TableName, order.Id.Value, cancellationToken).ConfigureAwait(false);
        var etag = await store.TryCreateAsync(stored, [received], messages, cancellationToken).ConfigureAwait(false);
        if (etag is null)
        {
            var existing = await store.GetAsync(order.Id, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Order {order.Id} conflicted on insert but cannot be read.");
            return (existing, false);
        }
        stored = stored with { ETag = etag.Value };
        await AfterCommitAsync(stored, messages, expectNew: true, cancellationToken).ConfigureAwait(false);
        return (stored, true);
    }

    private async Task<StoredOrder> CommitAsync(OrderDecision decision, CancellationToken cancellationToken)
    {
        var updated = decision.Updated;
        var order = updated.Order;
        var messages = OrderMessages.For(updated, decision.Events, e =>
            e.ConnectionId is not { } connection ? null
            : connection == order.ConnectionId ? updated.ThreePlAccountId?.Value
            : updated.Released.FirstOrDefault(r => r.ConnectionId == connection)?.ThreePlAccountId.Value, options.RequestDeadlineMaxDelay);
        await outbox.ArmAsync(OrderStore.TableName, order.Id.Value, cancellationToken).ConfigureAwait(false);
        var etag = await store.CommitAsync(updated, decision.Events, messages, cancellationToken).ConfigureAwait(false);
        var committed = updated with { ETag = etag };
        await AfterCommitAsync(committed, messages, decision.Events.Any(e => e is OrderDelegated), cancellationToken).ConfigureAwait(false);
        return committed;
    }

    /// <summary>
    /// Relay and index sync are both repeated by the safety net, so a failure here is logged, not thrown: the
    /// change is committed and the caller must hear that it was.
    /// </summary>
    private async Task AfterCommitAsync(StoredOrder committed, IReadOnlyCollection<OutboxMessage> messages, bool expectNew, CancellationToken cancellationToken)
    {
        await outbox.RelayAfterCommitAsync(OrderStore.TableName, committed.Order.Id.Value, messages, cancellationToken).ConfigureAwait(false);
        try
        {
            await index.SyncAsync(committed, expectNew, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RequestFailedException or HttpRequestException or InvalidOperationException or OperationCanceledException)
        {
            logger.LogWarning(ex, "Index sync of order {OrderId} failed; the safety net will repeat it", committed.Order.Id);
        }
    }
}
