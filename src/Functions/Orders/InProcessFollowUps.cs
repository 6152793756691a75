using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using ThreePL.Domain.Common;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Orders;

/// <summary>
/// Finishes committed order commands in the process that committed them, once their caller has its answer: publishes
/// the change's messages (the catch-up feed, subscribers such as billing, the first webhook attempts), syncs the list
/// rows if the command could not, and deletes the command's follow-up message, which so never reaches
/// <see cref="FinishOrderCommandFunction"/>. Against releasing the message to that queue function this spares the
/// message's update and its receive (docs/orders-storage.md, "One follow-up message per order command").
/// </summary>
/// <remarks>
/// The follow-up message stays the guarantee, hidden for the safety-net delay: if this process dies, or cannot finish,
/// the message arrives and its queue function finishes the work (as a redelivery, or after an explicit release). So a
/// command is handed over here only while a finisher runs, and only as many as <see cref="Capacity"/> wait (an
/// order event carries the whole order, so this also bounds the memory they hold); otherwise,
/// and for a command whose message has used more than a third of its delay since it was sent (the commit, the list-row
/// sync and the wait for a finisher) or whose work failed, the message is released to the queue at once. Once less than
/// half the delay is left while the work runs, the message is hidden again, so the queue function does not start the
/// same work beside it. Nothing here is a correctness dependency: every step is idempotent, and the
/// worst a lost hand-over costs is the delay.
/// </remarks>
public sealed class InProcessFollowUps(
    OrderFollowUps followUps,
    InlineRelay relay,
    OrderIndex index,
    OrderOptions options,
    OutboxOptions outbox,
    TimeProvider time,
    ILogger<InProcessFollowUps> logger) : BackgroundService
{
    /// <summary>How many handed-over commands may wait for a finisher; beyond it, commands release their messages.</summary>
    public const int Capacity = 256;

    private readonly Channel<CommittedFollowUp> _waiting = Channel.CreateBounded<CommittedFollowUp>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait, SingleWriter = false });

    private volatile bool _running;

    /// <summary>
    /// Hands a committed command's follow-up over to this process's finishers, or, when none runs or too many wait,
    /// releases it to its queue function at once.
    /// </summary>
    public Task FinishAsync(PendingFollowUp pending, IReadOnlyList<OutboxMessage> messages, bool listsSynced, CancellationToken cancellationToken) =>
        _running && _waiting.Writer.TryWrite(new CommittedFollowUp(pending, messages, listsSynced))
            ? Task.CompletedTask
            : followUps.ReleaseAsync(pending, messages, listsSynced, cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.InProcessFinishers == 0)
        {
            return;
        }
        _running = true;
        try
        {
            await Task.WhenAll(Enumerable.Range(0, options.InProcessFinishers).Select(_ => FinishWaitingAsync(stoppingToken))).ConfigureAwait(false);
        }
        finally
        {
            _running = false;
            _waiting.Writer.TryComplete();
            // Commands handed over but not started go to their queue function now rather than after the delay.
            while (_waiting.Reader.TryRead(out var left))
            {
                await followUps.ReleaseAsync(left.Pending, left.Messages, left.ListsSynced, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private async Task FinishWaitingAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var committed in _waiting.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await FinishOneAsync(committed, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException and not OperationCanceledException)
                {
                    // Even the release failed: the message arrives after its delay. This finisher goes on with the next.
                    logger.LogError(ex, "Follow-up {MessageId} of order {OrderId} was neither finished nor released", committed.Pending.MessageId, committed.Pending.Message.OrderId);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task FinishOneAsync(CommittedFollowUp committed, CancellationToken stoppingToken)
    {
        var pending = committed.Pending;
        // Counted from the send, not the hand-over: the commit and the list-row sync used part of the delay already.
        if (pending.HiddenUntil - time.GetUtcNow() < outbox.SafetyNetDelay * 2 / 3)
        {
            await followUps.ReleaseAsync(pending, committed.Messages, committed.ListsSynced, CancellationToken.None).ConfigureAwait(false);
            return;
        }
        var work = FinishAsync(committed, stoppingToken);
        using (var renewals = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
        {
            // Hidden again once less than half the delay is left, so a slow run never lets the message turn visible.
            while (await Task.WhenAny(work, Task.Delay(Until(pending.HiddenUntil - outbox.SafetyNetDelay / 2), time, renewals.Token)).ConfigureAwait(false) != work
                && !stoppingToken.IsCancellationRequested)
            {
                try
                {
                    pending = await followUps.HideAgainAsync(pending, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // The queue function may now start the same work beside this one: every step is idempotent.
                    logger.LogWarning(ex, "Follow-up {MessageId} of order {OrderId} could not be hidden again", pending.MessageId, pending.Message.OrderId);
                    break;
                }
            }
            await renewals.CancelAsync().ConfigureAwait(false);
        }
        try
        {
            await work.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            logger.LogWarning(ex, "Order {OrderId} v{Version}: finishing its command in process failed; its follow-up {MessageId} goes to the queue", pending.Message.OrderId, pending.Message.Version, pending.MessageId);
            await followUps.ReleaseAsync(pending, committed.Messages, committed.ListsSynced, CancellationToken.None).ConfigureAwait(false);
            return;
        }
        await followUps.DeleteAsync(pending, CancellationToken.None).ConfigureAwait(false);
    }

    private TimeSpan Until(DateTimeOffset at) => at - time.GetUtcNow() is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero;

    private async Task FinishAsync(CommittedFollowUp committed, CancellationToken cancellationToken)
    {
        await relay.PublishAsync(committed.Messages, redelivered: false, cancellationToken).ConfigureAwait(false);
        if (!committed.ListsSynced)
        {
            await index.SyncAsync(OrderId.Parse(committed.Pending.Message.OrderId), cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed record CommittedFollowUp(PendingFollowUp Pending, IReadOnlyList<OutboxMessage> Messages, bool ListsSynced);
}
