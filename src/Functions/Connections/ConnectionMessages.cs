using System.Text.Json;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Connections;

/// <summary>
/// The queue messages a connection's events cause, committed with the change in its outbox: the published event,
/// the hand-back of unstarted orders, and the signals to the connection's workflow (start it, tell it the
/// invitation was decided). Going through the outbox is what makes "a committed invitation always gets its
/// workflow" and "a committed decision always reaches it" hold across a crash right after the commit.
/// </summary>
public static class ConnectionMessages
{
    public const string WorkflowQueue = "connection-workflow";

    /// <param name="stored">The connection after the change.</param>
    /// <param name="events">What happened.</param>
    /// <param name="handBackSettle">When the hand-back of a deactivation runs a second time (<see cref="HandBackOptions"/>).</param>
    public static List<OutboxMessage> For(StoredConnection stored, IEnumerable<ConnectionEvent> events, TimeSpan handBackSettle)
    {
        var messages = new List<OutboxMessage>();
        foreach (var @event in events)
        {
            var connection = stored.Connection;
            var data = JsonSerializer.SerializeToElement(ConnectionResponse.For(stored, connection.MerchantAccountId), EventEnvelope.Json);
            var envelope = new EventEnvelope(
                "evt_" + Outbox.NewId(@event.OccurredAt),
                @event.Type,
                @event.OccurredAt,
                connection.Id.Value,
                null,
                [connection.ThreePlAccountId.Value, connection.MerchantAccountId.Value],
                data);
            messages.Add(envelope.ToOutboxMessage());
            if (@event is ConnectionDeactivated or ConnectionDisconnected)
            {
                // Commits with the transition, so the unstarted orders go back to the merchant even after a crash.
                var handback = JsonSerializer.Serialize(new HandBackRequest(connection.Id.Value), EventEnvelope.Json);
                messages.Add(new OutboxMessage("hbk_" + Outbox.NewId(@event.OccurredAt), HandBackRequest.Queue, handback));
                messages.Add(new OutboxMessage("hbk_" + Outbox.NewId(@event.OccurredAt), HandBackRequest.Queue, handback, handBackSettle));
            }
            if (WorkflowSignal.For(@event) is { } signal)
            {
                messages.Add(new OutboxMessage("wfs_" + Outbox.NewId(@event.OccurredAt), WorkflowQueue, JsonSerializer.Serialize(signal, EventEnvelope.Json)));
            }
        }
        return messages;
    }
}

/// <summary>What the workflow of connection <see cref="ConnectionId"/> must be told: <see cref="Start"/> or <see cref="Decided"/>.</summary>
public sealed record WorkflowSignal(string ConnectionId, string Kind)
{
    public const string Start = "start";
    public const string Decided = "decided";

    /// <summary>
    /// An invitation starts the workflow; an answer by a party tells it. Expiry needs no signal: the workflow
    /// expires the invitation itself.
    /// </summary>
    public static WorkflowSignal? For(ConnectionEvent @event) => @event switch
    {
        ConnectionInvited => new(@event.ConnectionId.Value, Start),
        ConnectionApproved or ConnectionDeclined or ConnectionCancelled => new(@event.ConnectionId.Value, Decided),
        _ => null,
    };
}
