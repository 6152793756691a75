using System.Text.Json;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Webhooks;

/// <summary>
/// The delivery worker, triggered by queue <c>webhook-deliveries</c>: every attempt after the first (which fan-out
/// makes itself), and manual retries. A message names attempt <c>n</c> of a delivery; the delivery row's
/// <c>Attempts</c> says how many are recorded, and that decides everything:
/// <list type="bullet">
/// <item><c>Attempts == n - 1</c>: claim attempt n and make it (<see cref="WebhookAttempts"/>). A crash before its
/// commit leaves the message to come back after its lease: the same attempt is made again with the same
/// <c>webhook-id</c> (at least once).</item>
/// <item><c>Attempts == n</c> and the message came back: attempt n was recorded but its worker died before asking
/// for n + 1, so ask (again). A duplicate is harmless by the rule above.</item>
/// <item>Anything else, or a delivery no longer pending: stale, nothing to do.</item>
/// </list>
/// The claim (ETag-guarded, with a lease a little longer than the send timeout) makes a duplicate message for the
/// same attempt stop, so each try is one HTTP request and one attempt row; if the claimer dies, the message that
/// came back looks again once the claim has lapsed.
/// </summary>
public sealed class DeliverWebhook(WebhookDeliveryStore store, WebhookAttempts attempts, DeliveryQueue queue, WebhookOptions options, TimeProvider time)
{
    [Function("DeliverWebhook")]
    public Task RunAsync([QueueTrigger(QueueBinding.Prefix + DeliveryMessage.Queue, Connection = QueueBinding.Connection)] Azure.Storage.Queues.Models.QueueMessage message, CancellationToken cancellationToken) =>
        HandleAsync(QueueDelivery.From(message), cancellationToken);

    public async Task HandleAsync(QueueDelivery trigger, CancellationToken cancellationToken)
    {
        var message = JsonSerializer.Deserialize<DeliveryMessage>(trigger.MessageText, EventEnvelope.Json)
            ?? throw new JsonException("Empty delivery message.");
        var delivery = await store.GetDeliveryAsync(message.Owner, message.DeliveryId, cancellationToken).ConfigureAwait(false);
        if (delivery is null)
        {
            return;
        }
        // Only a message that came back after its lease can be the one whose worker died between recording
        // attempt n and asking for n + 1; a first delivery of a stale message is a duplicate and must not start
        // a second chain of attempts.
        var redelivered = trigger.DequeueCount > 1;
        var runnable = delivery.Attempts == message.Attempt - 1 && (delivery.Status == DeliveryStatus.Pending || message.Manual);
        if (!runnable)
        {
            if (redelivered && delivery.Status == DeliveryStatus.Pending && delivery.Attempts == message.Attempt)
            {
                await queue.EnqueueNextAsync(delivery, cancellationToken).ConfigureAwait(false);
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
                await queue.SendAsync(message, delivery.InFlightUntil.Value - now + TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
            return;
        }
        if (await store.TryClaimAttemptAsync(delivery, number, now + options.Timeout + WebhookAttempts.ClaimMargin, cancellationToken).ConfigureAwait(false) is not { } claimed)
        {
            return;
        }
        var roundStart = message.Manual ? delivery.Attempts : delivery.RoundStart;
        await attempts.AttemptAsync(delivery with { RoundStart = roundStart, Status = DeliveryStatus.Pending, ETag = claimed, InFlightAttempt = null, InFlightUntil = null }, number, cancellationToken).ConfigureAwait(false);
    }
}
