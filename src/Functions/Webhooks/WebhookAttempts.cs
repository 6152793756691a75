using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Storage.Queues;
using ThreePL.Domain.Common;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Webhooks;

/// <summary>
/// Makes one claimed attempt of a delivery: resolve where it goes and with which secrets, send, then commit the
/// attempt row and the new state in one transaction under the claim's ETag, then ask for the next attempt if one
/// is due. Fan-out makes the first attempt of a delivery it just created (the claim is part of the insert); the
/// delivery worker makes every later one. A lost ETag race means another copy of the work recorded this attempt.
/// </summary>
public sealed class WebhookAttempts(
    WebhookDeliveryStore deliveries,
    DestinationHealthStore health,
    WebhookTargets targets,
    WebhookSender sender,
    RetryPolicy policy,
    DeliveryQueue queue,
    QueueServiceClient queues,
    StorageNames names,
    TimeProvider time,
    ILogger<WebhookAttempts> logger)
{
    /// <summary>How much longer than the send timeout a claim lasts: resolving the target and committing take time too.</summary>
    public static readonly TimeSpan ClaimMargin = TimeSpan.FromSeconds(5);

    /// <param name="delivery">The delivery as claimed: its ETag is the claim's.</param>
    /// <param name="number">The attempt to make.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>Whether this call stored its outcome (false: another copy of the work got there first).</returns>
    public async Task<bool> AttemptAsync(WebhookDelivery delivery, int number, CancellationToken cancellationToken)
    {
        var target = await ResolveAsync(delivery, cancellationToken).ConfigureAwait(false);
        if (target is null)
        {
            return await TryCommitAsync(Dead(delivery, "destination_removed"), null, cancellationToken).ConfigureAwait(false);
        }
        var known = CurrentFor(target, await health.GetHealthForAttemptAsync(delivery.Destination, cancellationToken).ConfigureAwait(false));
        if (known is { Disabled: true })
        {
            return await TryCommitAsync(Dead(delivery, "destination_disabled"), null, cancellationToken).ConfigureAwait(false);
        }

        var at = time.GetUtcNow();
        var result = await sender.SendAsync(target.Url, delivery.EventId, delivery.Body, target.Secrets, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var attempt = new WebhookAttempt(number, at, target.Url.OriginalString, result.StatusCode, result.LatencyMs, result.Response, result.Error);
        var updated = delivery with { Attempts = number, LastAttemptAt = at, LastStatusCode = result.StatusCode, InFlightAttempt = null, InFlightUntil = null };

        if (result.Succeeded)
        {
            var stored = await TryCommitAsync(updated with { Status = DeliveryStatus.Succeeded, NextAttemptAt = null, FailureReason = null }, attempt, cancellationToken).ConfigureAwait(false);
            if (stored && known is { FailingSince: not null })
            {
                await health.TrySaveHealthAsync(delivery.Destination, known with { FailingSince = null }, known, cancellationToken).ConfigureAwait(false);
            }
            return stored;
        }

        // The record may have been served from the cache as healthy; what is saved must build on the stored one.
        var storedHealth = await health.GetHealthAsync(delivery.Destination, cancellationToken).ConfigureAwait(false);
        known = CurrentFor(target, storedHealth);
        var failingSince = known?.FailingSince ?? at;
        var disableReason = policy.DisableReason(result.StatusCode, failingSince, now);
        WebhookDelivery next;
        if (disableReason is not null)
        {
            next = Dead(updated, result.StatusCode == StatusCodes.Status410Gone ? "gone" : "destination_disabled");
            await PublishDisabledAsync(delivery, target, disableReason, failingSince, cancellationToken).ConfigureAwait(false);
        }
        else if (policy.NextDelay(number - delivery.RoundStart, result.RetryAfter, Random.Shared.NextDouble()) is { } delay)
        {
            next = updated with { Status = DeliveryStatus.Pending, NextAttemptAt = now + delay, FailureReason = null };
        }
        else
        {
            next = Dead(updated, "retries_exhausted");
        }
        if (!await TryCommitAsync(next, attempt, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }
        var newHealth = new DestinationHealth(target.Url.OriginalString, failingSince, disableReason is not null, disableReason, disableReason is null ? null : now, default);
        if (known is null || known.FailingSince != newHealth.FailingSince || newHealth.Disabled)
        {
            await health.TrySaveHealthAsync(delivery.Destination, newHealth, storedHealth, cancellationToken).ConfigureAwait(false);
        }
        if (disableReason is not null)
        {
            logger.LogWarning("Webhook destination {Destination} disabled: {Reason}", delivery.Destination, disableReason);
        }
        return true;
    }

    /// <summary>A record about another URL (the connection's webhook URL changed since) no longer applies.</summary>
    private static DestinationHealth? CurrentFor(Target target, DestinationHealth? health) =>
        health is not null && health.Url != target.Url.OriginalString ? null : health;

    private static WebhookDelivery Dead(WebhookDelivery delivery, string reason) =>
        delivery with { Status = DeliveryStatus.Failed, NextAttemptAt = null, FailureReason = reason, InFlightAttempt = null, InFlightUntil = null };

    /// <summary>Commits, then asks for the next attempt; false when another worker got there first.</summary>
    private async Task<bool> TryCommitAsync(WebhookDelivery next, WebhookAttempt? attempt, CancellationToken cancellationToken)
    {
        try
        {
            var etag = await deliveries.CommitAttemptAsync(next, attempt, cancellationToken).ConfigureAwait(false);
            next = next with { ETag = etag };
        }
        catch (Azure.RequestFailedException ex) when (ex.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status409Conflict)
        {
            // Another copy of the work stored its outcome first, or this call's own transaction did and the storage client
            // sent it again after losing the answer; then the stored row is this outcome, and the next attempt is still ours
            // to ask for (nobody else will).
            var stored = await deliveries.GetDeliveryAsync(next.OwnerAccountId, next.Id, cancellationToken).ConfigureAwait(false);
            if (stored is null || !SameOutcome(stored, next))
            {
                return false;
            }
            next = stored;
        }
        if (next.Status == DeliveryStatus.Pending)
        {
            await queue.EnqueueNextAsync(next, cancellationToken).ConfigureAwait(false);
        }
        return true;
    }

    /// <summary>The next attempt's time carries its jitter, so two attempts' outcomes practically never agree on all of these.</summary>
    private static bool SameOutcome(WebhookDelivery stored, WebhookDelivery written) =>
        stored.Status == written.Status && stored.Attempts == written.Attempts && stored.LastAttemptAt == written.LastAttemptAt
        && stored.NextAttemptAt == written.NextAttemptAt && stored.FailureReason == written.FailureReason && stored.InFlightAttempt is null;

    private sealed record Target(Uri Url, IReadOnlyCollection<string> Secrets);

    /// <summary>Where and with which secrets, at send time (through <see cref="WebhookTargets"/>, at most its bound old).</summary>
    private async Task<Target?> ResolveAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        if (WebhookTable.IsEndpointId(delivery.Destination))
        {
            var endpoint = (await targets.EndpointsOfAsync(delivery.OwnerAccountId, cancellationToken).ConfigureAwait(false))
                .FirstOrDefault(e => e.Id == delivery.Destination);
            return endpoint is null ? null : new Target(new Uri(endpoint.Url), [endpoint.Secret]);
        }
        if (ConnectionId.TryParse(delivery.Destination, out var connectionId)
            && await targets.ConnectionAsync(connectionId, cancellationToken).ConfigureAwait(false) is { WebhookUrl: { } url } connection)
        {
            var secrets = connection.Secrets.ValidAt(time.GetUtcNow()).ToList();
            return secrets.Count == 0 ? null : new Target(url, secrets);
        }
        return null;
    }

    /// <summary>
    /// Says on the internal event bus that a destination was disabled, so the owner's other endpoints hear of
    /// it. The event id is derived from the failure episode, so a retried disable publishes the same event.
    /// </summary>
    private async Task PublishDisabledAsync(WebhookDelivery delivery, Target target, string reason, DateTimeOffset failingSince, CancellationToken cancellationToken)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{delivery.Destination}|{failingSince.UtcTicks}"));
        var id = "evt_disabled_" + Convert.ToHexStringLower(hash)[..24];
        var isEndpoint = WebhookTable.IsEndpointId(delivery.Destination);
        var data = JsonSerializer.SerializeToElement(new
        {
            endpointId = isEndpoint ? delivery.Destination : null,
            connectionId = isEndpoint ? null : delivery.Destination,
            url = target.Url.OriginalString,
            reason,
            failingSince,
        }, EventEnvelope.Json);
        var envelope = new EventEnvelope(id, WebhookFanOut.EndpointDisabledType, time.GetUtcNow(), isEndpoint ? null : delivery.Destination, null,
            [delivery.OwnerAccountId.Value], data);
        await queues.GetQueueClient(names.Queue(EventEnvelope.Queue)).SendMessageAsync(JsonSerializer.Serialize(envelope, EventEnvelope.Json), cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
