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
/// The first publication of an event makes each first attempt before anything is stored, then inserts the delivery
/// with that attempt in one transaction: no queue message, no read, no claim. If it dies in between, its message
/// comes back as a redelivery, and a redelivery works as a claim: the insert that creates a delivery also claims its
/// first attempt, so only the call that created it attempts it. When the delivery exists already, a redelivery asks
/// the delivery worker for attempt 1 if none is recorded, visible once a creator's claim has lapsed (a creator that
/// is merely slow is not doubled), or for attempt 2 at its due time if the creator recorded a failed first attempt
/// and may have died before asking. The price of sending first: a second publication of an event that is not a
/// redelivery (a duplicate queue message) sends it again, with the same <c>webhook-id</c>, and stores nothing.
/// </remarks>
public sealed class WebhookFanOut(WebhookDeliveryStore deliveries, WebhookTargets targets, WebhookAttempts attempts, DeliveryQueue queue, EventViews views, WebhookOptions options, TimeProvider time)
{
    public const string EndpointDisabledType = "webhook_endpoint.disabled";

    public async Task PublishAsync(EventEnvelope envelope, bool redelivered, CancellationToken cancellationToken) =>
        await DeliverAsync(envelope, await DestinationsAsync(envelope, cancellationToken).ConfigureAwait(false), redelivered, null, cancellationToken).ConfigureAwait(false);

    /// <summary>Where the event goes: one destination per matching URL, each with the body its owner may see.</summary>
    public async Task<IReadOnlyList<WebhookDestination>> DestinationsAsync(EventEnvelope envelope, CancellationToken cancellationToken)
    {
        if (envelope.Type.StartsWith("connection.", StringComparison.Ordinal) && ConnectionId.TryParse(envelope.ConnectionId, out var changed))
        {
            // This instance hears of the change here; the cache bound covers the others.
            targets.ForgetConnection(changed);
        }
        // Each destination gets the data as its owner may see it: the per-connection URL as that connection, an endpoint as its account.
        string Body(AccountId owner, bool confinedToConnection) => JsonSerializer.Serialize(
            new WebhookPayload(envelope.Id, envelope.Type, envelope.CreatedAt, views.DataFor(envelope, owner, confinedToConnection)), EventEnvelope.Json);
        var destinations = new List<WebhookDestination>();
        if (envelope.Type.StartsWith("order.", StringComparison.Ordinal)
            && ConnectionId.TryParse(envelope.ConnectionId, out var connectionId)
            && await targets.ConnectionAsync(connectionId, cancellationToken).ConfigureAwait(false) is { WebhookUrl: not null } connection)
        {
            destinations.Add(new(connectionId.Value, connection.ThreePlAccountId, Body(connection.ThreePlAccountId, confinedToConnection: true)));
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
                    destinations.Add(new(endpoint.Id, account, body ??= Body(account, confinedToConnection: false)));
                }
            }
        }
        return destinations;
    }

    /// <summary>
    /// Creates and first-attempts one delivery per destination. <paramref name="insertWith"/> names, per destination,
    /// rows to commit with its delivery's insert (<see cref="WebhookDelivery.InsertWith"/>; only a first publication
    /// makes that insert itself).
    /// </summary>
    /// <returns>The destinations whose delivery this call inserted.</returns>
    public async Task<IReadOnlySet<string>> DeliverAsync(EventEnvelope envelope, IReadOnlyList<WebhookDestination> destinations, bool redelivered,
        IReadOnlyDictionary<string, IReadOnlyList<Azure.Data.Tables.TableEntity>>? insertWith, CancellationToken cancellationToken)
    {
        var inserted = await Task.WhenAll(destinations.Select(async d =>
            await DeliverAsync(envelope, d.Body, d.Destination, d.Owner, redelivered, insertWith?.GetValueOrDefault(d.Destination) ?? [], cancellationToken).ConfigureAwait(false)
                ? d.Destination
                : null)).ConfigureAwait(false);
        return inserted.OfType<string>().ToHashSet(StringComparer.Ordinal);
    }

    private async Task<bool> DeliverAsync(EventEnvelope envelope, string body, string destination, AccountId owner, bool redelivered,
        IReadOnlyList<Azure.Data.Tables.TableEntity> insertWith, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var fresh = new WebhookDelivery(
            WebhookDeliveryStore.DeliveryId(envelope.Id, envelope.CreatedAt, destination), envelope.Id, envelope.Type, envelope.CreatedAt, body, destination, owner,
            envelope.ConnectionId, DeliveryStatus.Pending, 0, 0, now, null, null, null, default);
        if (!redelivered)
        {
            // The first publication sends before the delivery is stored, then inserts it with its first attempt: one
            // write instead of a claiming insert and a commit. Its own message coming back covers a crash in between.
            return await attempts.AttemptAsync(fresh with { InsertWith = insertWith }, 1, cancellationToken).ConfigureAwait(false);
        }
        var (delivery, created) = await deliveries.CreateDeliveryAsync(fresh with
        {
            InFlightAttempt = 1,
            InFlightUntil = now + options.Timeout + WebhookAttempts.ClaimMargin,
        }, cancellationToken).ConfigureAwait(false);
        if (created)
        {
            await attempts.AttemptAsync(delivery, 1, cancellationToken).ConfigureAwait(false);
            return true;
        }
        else if (redelivered && delivery is { Status: DeliveryStatus.Pending, Attempts: 0 })
        {
            // Two seconds past the claim: a queue delay travels in whole seconds and a message may turn visible up to one
            // early, and a first copy that still finds the claim standing stops as a duplicate would.
            var untilLapsed = delivery.InFlightUntil is { } until && until > now ? until - now + TimeSpan.FromSeconds(2) : TimeSpan.Zero;
            await queue.SendAsync(DeliveryMessage.For(delivery, 1), untilLapsed, cancellationToken).ConfigureAwait(false);
        }
        else if (redelivered && delivery is { Status: DeliveryStatus.Pending, Attempts: 1, InFlightAttempt: null })
        {
            // The creator recorded its attempt and may have died before asking for the next one. A second message for
            // that attempt is harmless: the delivery worker claims each attempt under the row's ETag.
            await queue.EnqueueNextAsync(delivery, cancellationToken).ConfigureAwait(false);
        }
        return false;
    }
}

/// <summary>One place an event goes: a per-connection URL or an endpoint id, the account it belongs to, and what it is sent.</summary>
public sealed record WebhookDestination(string Destination, AccountId Owner, string Body);
