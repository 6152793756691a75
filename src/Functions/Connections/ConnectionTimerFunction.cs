using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Audit;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Connections;

/// <summary>
/// Durable timers of pending invitations (expiry, reminder), as delayed queue messages armed through the
/// outbox when the invitation is made. A timer further away than a queue can delay re-arms itself; one
/// that is no longer relevant (the invitation was answered) does nothing.
/// </summary>
public sealed class ConnectionTimerFunction(
    ConnectionCommands commands,
    QueueServiceClient queues,
    StorageNames names,
    TimeProvider time)
{
    [Function("ConnectionTimers")]
    public Task RunAsync([QueueTrigger(QueueBinding.Prefix + ConnectionMessages.TimersQueue, Connection = QueueBinding.Connection)] Azure.Storage.Queues.Models.QueueMessage message, CancellationToken cancellationToken) =>
        HandleAsync(QueueDelivery.From(message), cancellationToken);

    public async Task HandleAsync(QueueDelivery trigger, CancellationToken cancellationToken)
    {
        var timer = JsonSerializer.Deserialize<ConnectionTimer>(trigger.MessageText, EventEnvelope.Json)
            ?? throw new JsonException("Empty timer.");
        var id = ConnectionId.Parse(timer.ConnectionId);
        var now = time.GetUtcNow();
        if (timer.DueAt > now)
        {
            await RearmAsync(timer, timer.DueAt - now, cancellationToken).ConfigureAwait(false);
            return;
        }
        var result = await commands.TransitionAsync(id, AuditActor.System, (connection, at) => timer.Kind switch
        {
            ConnectionTimer.Expire => connection.Expire(at),
            ConnectionTimer.Remind => connection.ReminderDue(at)
                ? connection.MarkReminderSent(at)
                : Outcome<ConnectionEvent>.Failure(ConnectionErrors.NotDue, "No reminder is due."),
            _ => throw new InvalidOperationException($"Unknown timer kind '{timer.Kind}'."),
        }, cancellationToken).ConfigureAwait(false);

        // Queue delays have one-second resolution, so a timer can arrive a moment early: try again shortly.
        if (result.Error?.Code == ConnectionErrors.NotDue && result.Connection?.Connection is { Status: ConnectionStatus.Pending } pending
            && (timer.Kind == ConnectionTimer.Expire ? pending.ExpiresAt : pending.ReminderDueAt) is { } due && due > time.GetUtcNow())
        {
            await RearmAsync(timer, due - time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RearmAsync(ConnectionTimer timer, TimeSpan delay, CancellationToken cancellationToken)
    {
        var capped = delay > ConnectionMessages.MaxQueueDelay ? ConnectionMessages.MaxQueueDelay : delay < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : delay;
        await queues.GetQueueClient(names.Queue(ConnectionMessages.TimersQueue)).SendAfterAsync(JsonSerializer.Serialize(timer, EventEnvelope.Json), capped, cancellationToken).ConfigureAwait(false);
    }
}
