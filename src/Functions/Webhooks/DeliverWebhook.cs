using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using ThreePL.Domain.Common;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Webhooks;

/// <summary>
/// The delivery worker, triggered by queue <c>webhook-deliveries</c>. A message names attempt <c>n</c> of a
/// delivery; the delivery row's <c>Attempts</c> says how many are recorded, and that decides everything:
/// <list type="bullet">
/// <item><c>Attempts == n - 1</c>: make attempt n. Send, then commit the attempt row and the new state in one
/// transaction under the row's ETag, then enqueue attempt n + 1 with its delay, then return (the host deletes
/// this message). A crash before the commit leaves the message to come back after its lease: the same attempt
/// is made again with the same <c>webhook-id</c> (at least once). A lost ETag race means another copy of this
/// message made the attempt; this one stops.</item>
/// <item><c>Attempts == n</c>: attempt n was recorded but this message was not deleted, so the process died
/// between commit and enqueue: enqueue attempt n + 1 (again). A duplicate is harmless by the rule above.</item>
/// <item>Anything else, or a delivery no longer pending: stale, nothing to do.</item>
/// </list>
/// Before sending, the worker claims the attempt on the delivery row (ETag-guarded, with a lease a little longer
/// than the send timeout). A duplicate message for the same attempt (queues deliver at least once) finds the
/// claim and stops, so each try is one HTTP request and one attempt row; if the claimer dies, its own message
/// comes back after the claim has lapsed and makes the attempt.
/// </summary>
public sealed class DeliverWebhook(
    WebhookStore store,
    ConnectionStore connections,
    WebhookSender sender,
    WebhookOptions options,
    QueueServiceClient queues,
    StorageNames names,
    TimeProvider time,
    ILogger<DeliverWebhook> logger)
{
    /// <summary>How much longer than the send timeout a claim lasts: reading the target and committing take time too.</summary>
    private static readonly TimeSpan ClaimMargin = TimeSpan.FromSeconds(5);

    [Function("DeliverWebhook")]
    public Task RunAsync([QueueTrigger(QueueBinding.Prefix + DeliveryMessage.Queue, Connection = QueueBinding.Connection)] Azure.Storage.Queues.Models.QueueMessage message, CancellationToken cancellationToken) =>
        HandleAsync(QueueDelivery.From(message), cancellationToken);

    public async Task HandleAsync(QueueDelivery trigger, CancellationToken cancellationToken)
    {
        var message = JsonSerializer.Deserialize<DeliveryMessage>(trigger.MessageText, EventEnvelope.Json)
            ?? throw new JsonException("Empty delivery message.");
        var delivery = await store.GetDeliveryAsync(message.DeliveryId, cancellationToken).ConfigureAwait(false);
        if (delivery is null)
        {
            return;
        }
        // Only a message that came back after its lease can be the one whose worker died between recording
        // attempt n and enqueuing n + 1; a first delivery of a stale message is a duplicate and must not start
        // a second chain of attempts.
        var redelivered = trigger.DequeueCount > 1;
        var runnable = delivery.Attempts == message.Attempt - 1 && (delivery.Status == DeliveryStatus.Pending || message.Manual);
        if (!runnable)
        {
            if (redelivered && delivery.Status == DeliveryStatus.Pending && delivery.Attempts == message.Attempt)
            {
                await EnqueueAsync(delivery, cancellationToken).ConfigureAwait(false);
            }
            return;
        }
        var number = delivery.Attempts + 1;
        var now = time.GetUtcNow();
        if (delivery.InFlightAttempt == number && delivery.InFlightUntil > now)
        {
            // Someone is sending this attempt. A duplicate just stops; a message that came back (its worker may
            // be the one that died) looks again once the claim has lapsed.
            if (redelivered)
            {
                await queues.GetQueueClient(names.Queue(DeliveryMessage.Queue))
                    .SendAfterAsync(trigger.MessageText, delivery.InFlightUntil.Value - now + TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
            return;
        }
        if (await store.TryClaimAttemptAsync(delivery, number, now + options.Timeout + ClaimMargin, cancellationToken).ConfigureAwait(false) is not { } claimed)
        {
            return;
        }
        var roundStart = message.Manual ? delivery.Attempts : delivery.RoundStart;
        await AttemptAsync(delivery with { RoundStart = roundStart, Status = DeliveryStatus.Pending, ETag = claimed, InFlightAttempt = null, InFlightUntil = null }, number, cancellationToken).ConfigureAwait(false);
    }

    private async Task AttemptAsync(WebhookDelivery delivery, int number, CancellationToken cancellationToken)
    {
        var target = await ResolveAsync(delivery, cancellationToken).ConfigureAwait(false);
        if (target is null)
        {
            await TryCommitAsync(Dead(delivery, "destination_removed"), null, cancellationToken).ConfigureAwait(false);
            return;
        }
        var health = await store.GetHealthAsync(delivery.Destination, cancellationToken).ConfigureAwait(false);
        if (health is not null && health.Url != target.Url.OriginalString)
        {
            health = null;
        }
        if (health is { Disabled: true })
        {
            await TryCommitAsync(Dead(delivery, "destination_disabled"), null, cancellationToken).ConfigureAwait(false);
            return;
        }

        var at = time.GetUtcNow();
        var result = await sender.SendAsync(target.Url, delivery.EventId, delivery.Body, target.Secrets, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var attempt = new WebhookAttempt(number, at, target.Url.OriginalString, result.StatusCode, result.LatencyMs, result.Response, result.Error);
        var updated = delivery with { Attempts = number, LastAttemptAt = at, LastStatusCode = result.StatusCode };

        if (result.Succeeded)
        {
            if (await TryCommitAsync(updated with { Status = DeliveryStatus.Succeeded, NextAttemptAt = null, FailureReason = null }, attempt, cancellationToken).ConfigureAwait(false)
                && health is { FailingSince: not null })
            {
                await store.TrySaveHealthAsync(delivery.Destination, health with { FailingSince = null }, health, cancellationToken).ConfigureAwait(false);
            }
            return;
        }

        var failingSince = health?.FailingSince ?? at;
        string? disableReason = result.StatusCode == StatusCodes.Status410Gone
            ? "The endpoint answered 410 Gone."
            : now - failingSince >= options.DisableAfter
                ? $"Every attempt has failed since {failingSince:O}."
                : null;
        var withinRound = number - delivery.RoundStart;
        WebhookDelivery next;
        if (disableReason is not null)
        {
            next = Dead(updated, result.StatusCode == StatusCodes.Status410Gone ? "gone" : "destination_disabled");
            await PublishDisabledAsync(delivery, target, disableReason, failingSince, cancellationToken).ConfigureAwait(false);
        }
        else if (withinRound <= options.RetrySchedule.Count)
        {
            var delay = Delay(options.RetrySchedule[withinRound - 1], result.RetryAfter);
            next = updated with { Status = DeliveryStatus.Pending, NextAttemptAt = now + delay, FailureReason = null };
        }
        else
        {
            next = Dead(updated, "retries_exhausted");
        }
        if (!await TryCommitAsync(next, attempt, cancellationToken).ConfigureAwait(false))
        {
            return;
        }
        var newHealth = new DestinationHealth(target.Url.OriginalString, failingSince, disableReason is not null, disableReason, disableReason is null ? null : now, default);
        if (health is null || health.FailingSince != newHealth.FailingSince || newHealth.Disabled)
        {
            await store.TrySaveHealthAsync(delivery.Destination, newHealth, health, cancellationToken).ConfigureAwait(false);
        }
        if (disableReason is not null)
        {
            logger.LogWarning("Webhook destination {Destination} disabled: {Reason}", delivery.Destination, disableReason);
        }
    }

    private static WebhookDelivery Dead(WebhookDelivery delivery, string reason) =>
        delivery with { Status = DeliveryStatus.Failed, NextAttemptAt = null, FailureReason = reason };

    /// <summary>Commits, then schedules the next attempt; false when another worker got there first.</summary>
    private async Task<bool> TryCommitAsync(WebhookDelivery next, WebhookAttempt? attempt, CancellationToken cancellationToken)
    {
        try
        {
            var etag = await store.CommitAttemptAsync(next, attempt, cancellationToken).ConfigureAwait(false);
            next = next with { ETag = etag };
        }
        catch (Azure.RequestFailedException ex) when (ex.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status409Conflict)
        {
            return false;
        }
        if (next.Status == DeliveryStatus.Pending)
        {
            await EnqueueAsync(next, cancellationToken).ConfigureAwait(false);
        }
        return true;
    }

    /// <summary>Longest delay a storage queue accepts; the retry schedule stays far below it.</summary>
    private static readonly TimeSpan MaxQueueDelay = TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1);

    private async Task EnqueueAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        var delay = (delivery.NextAttemptAt ?? time.GetUtcNow()) - time.GetUtcNow();
        delay = delay < TimeSpan.Zero ? TimeSpan.Zero : delay > MaxQueueDelay ? MaxQueueDelay : delay;
        var queue = queues.GetQueueClient(names.Queue(DeliveryMessage.Queue));
        var body = JsonSerializer.Serialize(new DeliveryMessage(delivery.Id, delivery.Attempts + 1), EventEnvelope.Json);
        await queue.SendAfterAsync(body, delay, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The scheduled delay with ±jitter; a receiver's <c>Retry-After</c> can only lengthen it, up to the cap.</summary>
    private TimeSpan Delay(TimeSpan scheduled, TimeSpan? retryAfter)
    {
        var factor = 1 + ((Random.Shared.NextDouble() * 2) - 1) * options.Jitter;
        var delay = TimeSpan.FromTicks((long)(scheduled.Ticks * factor));
        if (retryAfter is { } asked && asked > delay)
        {
            delay = asked < options.MaxRetryAfter ? asked : options.MaxRetryAfter;
        }
        return delay;
    }

    private sealed record Target(Uri Url, IReadOnlyCollection<string> Secrets);

    /// <summary>Where and with which secrets, read at send time: a rotated secret or changed URL applies to the next attempt.</summary>
    private async Task<Target?> ResolveAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        if (WebhookStore.IsEndpointId(delivery.Destination))
        {
            var endpoint = await store.GetEndpointAsync(delivery.OwnerAccountId, delivery.Destination, cancellationToken).ConfigureAwait(false);
            return endpoint is null ? null : new Target(new Uri(endpoint.Url), [endpoint.Secret]);
        }
        if (ConnectionId.TryParse(delivery.Destination, out var connectionId)
            && await connections.GetAsync(connectionId, cancellationToken).ConfigureAwait(false) is { Settings.WebhookUrl: { } url } connection)
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
        var isEndpoint = WebhookStore.IsEndpointId(delivery.Destination);
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
