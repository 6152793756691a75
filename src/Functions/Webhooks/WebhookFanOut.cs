using System.Text.Json;
using ThreePL.Domain.Common;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Webhooks;

/// <summary>What goes over the wire: the Standard Webhooks envelope.</summary>
public sealed record WebhookPayload(string Id, string Type, DateTimeOffset CreatedAt, JsonElement Data);

/// <summary>
/// Turns one public event into one delivery per matching destination — the 3PL's per-connection URL for
/// <c>order.*</c> events of that connection, and every endpoint of every account the event concerns whose filter
/// accepts the type — and makes each delivery's first attempt at once. Idempotent: the delivery id is derived from
/// (event id, destination), so an event dispatched twice creates each delivery once.
/// </summary>
/// <remarks>
/// The first attempt is claimed in the very insert that creates the delivery, and made here: no queue message, no
/// read, no separate claim. Only the call that created a delivery attempts it. A later call for the same event
/// acts only when it is a redelivery of the event message (the creator may have died before recording the attempt)
/// and the delivery still has no attempt: it asks the delivery worker for attempt 1, visible once the creator's
/// claim has lapsed, so a creator that is merely slow is never doubled.
/// </remarks>
public sealed class WebhookFanOut(WebhookDeliveryStore deliveries, WebhookTargets targets, WebhookAttempts attempts, DeliveryQueue queue, EventViews views, WebhookOptions options, TimeProvider time)
{
    public const string EndpointDisabledType = "webhook_endpoint.disabled";

    public async Task PublishAsync(EventEnvelope envelope, bool redelivered, CancellationToken cancellationToken)
    {
        if (envelope.Type.StartsWith("connection.", StringComparison.Ordinal) && ConnectionId.TryParse(envelope.ConnectionId, out var changed))
        {
            // This instance hears of the change here; the cache bound covers the others.
            targets.ForgetConnection(changed);
        }
        // Each destination gets the data as its owner may see it: the per-connection URL as that connection, an endpoint as its account.
        string Body(AccountId owner, bool confinedToConnection) => JsonSerializer.Serialize(
            new WebhookPayload(envelope.Id, envelope.Type, envelope.CreatedAt, views.DataFor(envelope, owner, confinedToConnection)), EventEnvelope.Json);
        var destinations = new List<(string Destination, AccountId Owner, string Body)>();
        if (envelope.Type.StartsWith("order.", StringComparison.Ordinal)
            && ConnectionId.TryParse(envelope.ConnectionId, out var connectionId)
            && await targets.ConnectionAsync(connectionId, cancellationToken).ConfigureAwait(false) is { WebhookUrl: not null } connection)
        {
            destinations.Add((connectionId.Value, connection.ThreePlAccountId, Body(connection.ThreePlAccountId, confinedToConnection: true)));
        }
        foreach (var accountId in envelope.AccountIds.Distinct(StringComparer.Ordinal))
        {
            if (!AccountId.TryParse(accountId, out var account))
            {
                continue;
            }
            string? body = null;
            foreach (var endpoint in await targets.EndpointsOfAsync(account, cancellationToken).ConfigureAwait(false))
            {
                if (endpoint.Accepts(envelope.Type))
                {
                    destinations.Add((endpoint.Id, account, body ??= Body(account, confinedToConnection: false)));
                }
            }
        }
        await Task.WhenAll(destinations.Select(d => DeliverAsync(envelope, d.Body, d.Destination, d.Owner, redelivered, cancellationToken))).ConfigureAwait(false);
    }

    private async Task DeliverAsync(EventEnvelope envelope, string body, string destination, AccountId owner, bool redelivered, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var (delivery, created) = await deliveries.CreateDeliveryAsync(new WebhookDelivery(
            WebhookDeliveryStore.DeliveryId(envelope.Id, destination), envelope.Id, envelope.Type, envelope.CreatedAt, body, destination, owner,
            envelope.ConnectionId, DeliveryStatus.Pending, 0, 0, now, null, null, null, default)
        {
            InFlightAttempt = 1,
            InFlightUntil = now + options.Timeout + WebhookAttempts.ClaimMargin,
        }, cancellationToken).ConfigureAwait(false);
        if (created)
        {
            await attempts.AttemptAsync(delivery, 1, cancellationToken).ConfigureAwait(false);
        }
        else if (redelivered && delivery is { Status: DeliveryStatus.Pending, Attempts: 0 })
        {
            // Two seconds past the claim: a queue delay travels in whole seconds and a message may turn visible up to one
            // early, and a first copy that still finds the claim standing stops as a duplicate would.
            var untilLapsed = delivery.InFlightUntil is { } until && until > now ? until - now + TimeSpan.FromSeconds(2) : TimeSpan.Zero;
            await queue.SendAsync(new DeliveryMessage(delivery.Id, 1), untilLapsed, cancellationToken).ConfigureAwait(false);
        }
    }
}
