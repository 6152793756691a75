using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using ThreePL.Domain.Common;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Webhooks;

/// <summary>What goes over the wire: the Standard Webhooks envelope.</summary>
public sealed record WebhookPayload(string Id, string Type, DateTimeOffset CreatedAt, JsonElement Data);

/// <summary>The work item on queue <c>webhook-deliveries</c>: attempt <see cref="Attempt"/> of one delivery.</summary>
public sealed record DeliveryMessage(string DeliveryId, int Attempt, bool Manual = false)
{
    public const string Queue = "webhook-deliveries";
}

/// <summary>
/// Turns one public event into one delivery per matching destination: the 3PL's per-connection URL for
/// <c>order.*</c> events of that connection, and every endpoint of every account the event concerns whose
/// filter accepts the type. Idempotent: the delivery id is derived from (event id, destination), so an event
/// dispatched twice creates each delivery once. The first attempt is enqueued by the call that created the
/// delivery; a later call enqueues it again only when it is a redelivery of the event message (the creator
/// may have died before enqueuing) and the delivery has still not been attempted. A duplicate relay of the
/// event (the outbox's at-least-once) therefore does not make a second, concurrent first attempt.
/// </summary>
public sealed class WebhookFanOut(
    WebhookStore store,
    ConnectionStore connections,
    QueueServiceClient queues,
    StorageNames names,
    TimeProvider time)
{
    public const string EndpointDisabledType = "webhook_endpoint.disabled";

    public async Task PublishAsync(EventEnvelope envelope, bool redelivered, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.Serialize(new WebhookPayload(envelope.Id, envelope.Type, envelope.CreatedAt, envelope.Data), EventEnvelope.Json);
        var destinations = new List<(string Destination, AccountId Owner)>();
        if (envelope.Type.StartsWith("order.", StringComparison.Ordinal)
            && ConnectionId.TryParse(envelope.ConnectionId, out var connectionId)
            && await connections.GetAsync(connectionId, cancellationToken).ConfigureAwait(false) is { Settings.WebhookUrl: not null } connection)
        {
            destinations.Add((connectionId.Value, connection.Connection.ThreePlAccountId));
        }
        foreach (var accountId in envelope.AccountIds.Distinct(StringComparer.Ordinal))
        {
            if (!AccountId.TryParse(accountId, out var account))
            {
                continue;
            }
            foreach (var endpoint in await store.ListEndpointsAsync(account, cancellationToken).ConfigureAwait(false))
            {
                if (endpoint.Accepts(envelope.Type))
                {
                    destinations.Add((endpoint.Id, account));
                }
            }
        }
        var queue = queues.GetQueueClient(names.Queue(DeliveryMessage.Queue));
        var now = time.GetUtcNow();
        foreach (var (destination, owner) in destinations)
        {
            var (delivery, created) = await store.CreateDeliveryAsync(new WebhookDelivery(
                WebhookStore.DeliveryId(envelope.Id, destination), envelope.Id, envelope.Type, envelope.CreatedAt, body, destination, owner,
                envelope.ConnectionId, DeliveryStatus.Pending, 0, 0, now, null, null, null, default), cancellationToken).ConfigureAwait(false);
            if (created || (redelivered && delivery is { Status: DeliveryStatus.Pending, Attempts: 0 }))
            {
                await queue.SendMessageAsync(JsonSerializer.Serialize(new DeliveryMessage(delivery.Id, 1), EventEnvelope.Json), cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
