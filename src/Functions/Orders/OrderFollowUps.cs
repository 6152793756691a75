using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Queues;
using ThreePL.Domain.Common;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Orders;

/// <summary>
/// The one queue message of an order command (queue <c>order-follow-ups</c>), consumed by
/// <see cref="FinishOrderCommandFunction"/>. Sent before the commit, delayed, naming the order, the version the command
/// is about to commit and the ETag it read (the commit's condition); released after the commit with
/// <see cref="Committed"/> set and, when they fit, the messages the change carries.
/// </summary>
/// <param name="OrderId">The order.</param>
/// <param name="Version">The version the command commits.</param>
/// <param name="ReadETag">The ETag of the order row the command decided on: while the row still has it, the command has not committed.</param>
/// <param name="Committed">Set by the command after its commit.</param>
/// <param name="ListsSynced">Set when the command brought the list rows in line itself.</param>
/// <param name="Messages">The change's messages, when they fit; otherwise the consumer reads them from the history row.</param>
public sealed record OrderFollowUpMessage(
    string OrderId,
    long Version,
    string ReadETag,
    bool Committed = false,
    bool ListsSynced = false,
    IReadOnlyList<OutboxMessage>? Messages = null)
{
    public const string Queue = "order-follow-ups";

    /// <summary>
    /// The most UTF-8 bytes a released message may take with its messages in it. A queue message holds 64 KiB of
    /// base64, 48 KiB of text; this leaves a margin, and an order event carries the whole order (up to 44 000 bytes),
    /// so a large order's messages stay on its history row and the consumer reads them there.
    /// </summary>
    public const int MaxReleasedBytes = 40_000;
}

/// <summary>
/// A follow-up message as its send (or its last update) answered: what its release, renewal or deletion needs, and
/// until when, by this process's clock, it stays hidden at least (the clock was read before the request went out).
/// </summary>
public sealed record PendingFollowUp(string MessageId, string PopReceipt, OrderFollowUpMessage Message, DateTimeOffset HiddenUntil);

/// <summary>
/// The order commands' side of <see cref="OrderFollowUpMessage"/>: send it delayed before the commit; after it, delete
/// it once this process has finished the command (<see cref="InProcessFollowUps"/>) or release it at once to its queue
/// function; delete it when the commit lost its race. Nothing here is needed for correctness after the send: a
/// failed release or deletion only lets the message arrive after its delay, and its consumer finds out from storage.
/// </summary>
public sealed class OrderFollowUps(QueueServiceClient queues, StorageNames names, OutboxOptions options, TimeProvider time, ILogger<OrderFollowUps> logger)
{
    private QueueClient Queue => queues.GetQueueClient(names.Queue(OrderFollowUpMessage.Queue));

    /// <summary>
    /// Sends the follow-up of a command about to commit <paramref name="version"/> of <paramref name="id"/> under
    /// <paramref name="readETag"/>, visible after the safety-net delay: should this process die before releasing it,
    /// that is when its queue function finishes the work.
    /// </summary>
    public async Task<PendingFollowUp> SendAsync(OrderId id, long version, ETag readETag, CancellationToken cancellationToken)
    {
        var message = new OrderFollowUpMessage(id.Value, version, readETag.ToString());
        var hiddenUntil = time.GetUtcNow() + options.SafetyNetDelay;
        var receipt = await Queue.SendAfterAsync(JsonSerializer.Serialize(message, EventEnvelope.Json), options.SafetyNetDelay, cancellationToken).ConfigureAwait(false);
        return new PendingFollowUp(receipt.Value.MessageId, receipt.Value.PopReceipt, message, hiddenUntil);
    }

    /// <summary>
    /// Makes the follow-up of a committed change visible at once, saying so, with the change's messages when they fit.
    /// A failure is logged, not thrown: the change is committed and its caller must hear that it was; the message then
    /// arrives after its delay and its consumer reads what was committed.
    /// </summary>
    public async Task ReleaseAsync(PendingFollowUp pending, IReadOnlyList<OutboxMessage> messages, bool listsSynced, CancellationToken cancellationToken)
    {
        var released = pending.Message with { Committed = true, ListsSynced = listsSynced, Messages = messages };
        var text = JsonSerializer.Serialize(released, EventEnvelope.Json);
        if (Encoding.UTF8.GetByteCount(text) > OrderFollowUpMessage.MaxReleasedBytes)
        {
            text = JsonSerializer.Serialize(released with { Messages = null }, EventEnvelope.Json);
        }
        try
        {
            await Queue.UpdateMessageAsync(pending.MessageId, pending.PopReceipt, text, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (TransientFailure.Is(ex) || ex is RequestFailedException or OperationCanceledException)
        {
            logger.LogWarning(ex, "Follow-up {MessageId} of order {OrderId} could not be released; it arrives after its delay and finds the commit", pending.MessageId, pending.Message.OrderId);
        }
    }

    /// <summary>
    /// Keeps a follow-up hidden for another safety-net delay while this process is still finishing its command, so its
    /// queue function does not start the same work beside it. Returns the follow-up with its new pop receipt.
    /// </summary>
    public async Task<PendingFollowUp> HideAgainAsync(PendingFollowUp pending, CancellationToken cancellationToken)
    {
        var hiddenUntil = time.GetUtcNow() + options.SafetyNetDelay;
        var receipt = await Queue.UpdateMessageAsync(pending.MessageId, pending.PopReceipt, visibilityTimeout: options.SafetyNetDelay, cancellationToken: cancellationToken).ConfigureAwait(false);
        return pending with { PopReceipt = receipt.Value.PopReceipt, HiddenUntil = hiddenUntil };
    }

    /// <summary>
    /// Deletes a follow-up that has nothing left to do: its command lost its race (nothing was written, and the retry
    /// sends its own), or this process finished the command itself (<see cref="InProcessFollowUps"/>). A failure is
    /// logged, not thrown: the message then arrives, finds the order changed by another writer or the work done (every
    /// step of it is idempotent), and stops.
    /// </summary>
    public async Task DeleteAsync(PendingFollowUp pending, CancellationToken cancellationToken)
    {
        try
        {
            await Queue.DeleteMessageAsync(pending.MessageId, pending.PopReceipt, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (TransientFailure.Is(ex) || ex is RequestFailedException or OperationCanceledException)
        {
            logger.LogInformation(ex, "Follow-up {MessageId} of order {OrderId} could not be deleted; it will find nothing left to do", pending.MessageId, pending.Message.OrderId);
        }
    }
}
