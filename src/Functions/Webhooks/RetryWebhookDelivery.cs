using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Functions.Http;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Webhooks;

public sealed record RecoverWebhookDeliveriesRequest(string? EndpointId, string? ConnectionId, DateTimeOffset? Since);

public sealed record RecoverWebhookDeliveriesResponse(int Retried, bool Truncated);

/// <summary>
/// Manual redelivery: one failed (or succeeded) delivery, or every failed delivery of one destination since
/// a time ("recover"). A manual retry starts a fresh round of the schedule and, being an explicit decision,
/// re-enables a disabled destination. The attempt message goes out before the state is marked pending, so
/// a crash in between still retries (the worker runs a manual message whatever the status says).
/// </summary>
public sealed class RetryWebhookDelivery(WebhookDeliveryStore store, WebhookEndpointStore endpoints, DestinationHealthStore health, DeliveryQueue queue, TimeProvider time)
{
    public const int MaxRecover = 1000;

    public async Task<Results<Accepted<WebhookDeliveryResponse>, ProblemHttpResult>> RetryAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        var delivery = await ListWebhookDeliveries.FindAsync(store, caller, id, cancellationToken).ConfigureAwait(false);
        if (delivery is null)
        {
            return Problems.NotFound("webhook delivery");
        }
        if (delivery.Status == DeliveryStatus.Pending)
        {
            return Problems.Conflict("delivery_pending", "The delivery is still being attempted; retry it once it has succeeded or failed.");
        }
        var retried = await RetryAsync(delivery, cancellationToken).ConfigureAwait(false);
        return TypedResults.Accepted($"/v1/webhook-deliveries/{id}", WebhookDeliveryResponse.For(retried, await store.ListAttemptsAsync(retried, cancellationToken).ConfigureAwait(false)));
    }

    public async Task<Results<Accepted<RecoverWebhookDeliveriesResponse>, ProblemHttpResult>> RecoverAsync(Caller caller, RecoverWebhookDeliveriesRequest request, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        if ((request.EndpointId is null) == (request.ConnectionId is null))
        {
            errors.Add("endpointId", "Give exactly one of endpointId and connectionId.");
        }
        if (request.EndpointId is not null && !WebhookTable.IsEndpointId(request.EndpointId))
        {
            errors.Add("endpointId", "Not a webhook endpoint id.");
        }
        if (request.ConnectionId is not null && !ConnectionId.TryParse(request.ConnectionId, out _))
        {
            errors.Add("connectionId", "Not a connection id.");
        }
        if (request.Since is null)
        {
            errors.Add("since", "This field is required.");
        }
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }
        if (caller.Scope is { } scope && request.ConnectionId != scope.Value)
        {
            return Problems.Forbidden(HttpApi.ScopedKeyNotAllowed, "A key scoped to a connection recovers that connection's deliveries only.");
        }
        var destination = request.EndpointId ?? request.ConnectionId!;
        if (request.EndpointId is not null && await endpoints.GetEndpointAsync(caller.AccountId, request.EndpointId, cancellationToken).ConfigureAwait(false) is null)
        {
            return Problems.NotFound("webhook endpoint");
        }
        var retried = 0;
        var seen = 0;
        string? cursor = null;
        do
        {
            // The log is newest first and bounded below by since, so this walks exactly the window asked for.
            var (entries, next) = await store.ListAsync(caller.AccountId, request.ConnectionId, request.Since, cursor, 200, cancellationToken).ConfigureAwait(false);
            cursor = next;
            seen += entries.Count;
            foreach (var (delivery, _) in entries)
            {
                if (delivery.Status == DeliveryStatus.Failed && delivery.Destination == destination)
                {
                    await RetryAsync(delivery, cancellationToken).ConfigureAwait(false);
                    retried++;
                }
            }
        }
        while (cursor is not null && seen < MaxRecover);
        return TypedResults.Accepted((string?)null, new RecoverWebhookDeliveriesResponse(retried, cursor is not null));
    }

    private async Task<WebhookDelivery> RetryAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        await health.ResetHealthAsync(delivery.Destination, cancellationToken).ConfigureAwait(false);
        await queue.SendAsync(DeliveryMessage.For(delivery, delivery.Attempts + 1, manual: true), TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        var pending = delivery with { Status = DeliveryStatus.Pending, RoundStart = delivery.Attempts, NextAttemptAt = time.GetUtcNow(), FailureReason = null };
        try
        {
            var etag = await store.CommitAttemptAsync(pending, null, cancellationToken).ConfigureAwait(false);
            return pending with { ETag = etag };
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == StatusCodes.Status412PreconditionFailed)
        {
            // The worker already picked the message up; its state is the newer one.
            return await store.GetDeliveryAsync(delivery.OwnerAccountId, delivery.Id, cancellationToken).ConfigureAwait(false) ?? pending;
        }
    }
}
