using System.Text.Json;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Connections;

/// <summary>The queue messages a connection's events cause: published events, e-mail triggers and durable timers.</summary>
public static class ConnectionMessages
{
    public const string TimersQueue = "connection-timers";

    /// <summary>Longest delay a storage queue accepts; later timers re-arm themselves on arrival.</summary>
    public static readonly TimeSpan MaxQueueDelay = TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1);

    public static List<OutboxMessage> For(StoredConnection stored, IEnumerable<ConnectionEvent> events)
    {
        var messages = new List<OutboxMessage>();
        foreach (var @event in events)
        {
            var type = @event.Type ?? (@event is InvitationReminderSent ? EventEnvelope.InvitationReminderType : null);
            if (type is null)
            {
                continue;
            }
            var connection = stored.Connection;
            var data = JsonSerializer.SerializeToElement(ConnectionResponse.For(stored, connection.MerchantAccountId), EventEnvelope.Json);
            var envelope = new EventEnvelope(
                "evt_" + Outbox.NewId(@event.OccurredAt),
                type,
                @event.OccurredAt,
                connection.Id.Value,
                null,
                [connection.ThreePlAccountId.Value, connection.MerchantAccountId.Value],
                data);
            messages.Add(envelope.ToOutboxMessage());
            if (@event is ConnectionDeactivated or ConnectionDisconnected)
            {
                // Commits with the transition, so the unstarted orders go back to the merchant even after a crash.
                var handback = JsonSerializer.Serialize(new Orders.HandBackOrdersFunction.HandBackOrdersPage(connection.Id.Value), EventEnvelope.Json);
                messages.Add(new OutboxMessage("hbk_" + Outbox.NewId(@event.OccurredAt), Orders.OrderMessages.HandbackQueue, handback));
            }
            if (@event is ConnectionInvited invited)
            {
                messages.Add(Timer(connection, ConnectionTimer.Expire, invited.ExpiresAt, @event.OccurredAt));
                if (connection.ReminderDueAt is { } reminder)
                {
                    messages.Add(Timer(connection, ConnectionTimer.Remind, reminder, @event.OccurredAt));
                }
            }
        }
        return messages;
    }

    public static OutboxMessage Timer(Connection connection, string kind, DateTimeOffset dueAt, DateTimeOffset now)
    {
        var delay = dueAt - now;
        delay = delay < TimeSpan.Zero ? TimeSpan.Zero : delay > MaxQueueDelay ? MaxQueueDelay : delay;
        var body = JsonSerializer.Serialize(new ConnectionTimer(connection.Id.Value, kind, dueAt), EventEnvelope.Json);
        return new OutboxMessage($"tmr_{Outbox.NewId(now)}", TimersQueue, body, delay);
    }
}

/// <summary>A durable timer: a delayed queue message that acts on a connection when it is due.</summary>
public sealed record ConnectionTimer(string ConnectionId, string Kind, DateTimeOffset DueAt)
{
    public const string Expire = "expire";
    public const string Remind = "remind";
}
