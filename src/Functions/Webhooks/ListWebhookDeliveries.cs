using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Webhooks;

public sealed record WebhookAttemptResponse(int Number, DateTimeOffset At, string Url, int? StatusCode, long LatencyMs, string? Response, string? Error);

public sealed record WebhookDeliveryResponse(
    string Id, string EventId, string EventType, DateTimeOffset EventCreatedAt, string? EndpointId, string? ConnectionId,
    string Status, int AttemptCount, DateTimeOffset? NextAttemptAt, int? LastStatusCode, DateTimeOffset? LastAttemptAt,
    string? FailureReason, IReadOnlyList<WebhookAttemptResponse> Attempts)
{
    public static WebhookDeliveryResponse For(WebhookDelivery d, IReadOnlyList<WebhookAttempt> attempts) => new(
        d.Id, d.EventId, d.EventType, d.EventCreatedAt, WebhookTable.IsEndpointId(d.Destination) ? d.Destination : null, d.ConnectionId,
        d.Status, d.Attempts, d.NextAttemptAt, d.LastStatusCode, d.LastAttemptAt, d.FailureReason,
        attempts.Select(a => new WebhookAttemptResponse(a.Number, a.At, a.Url, a.StatusCode, a.LatencyMs, a.Response, a.Error)).ToList());
}

/// <summary>
/// The delivery log of the caller's destinations, newest first, with every attempt. A key scoped to a
/// connection sees that connection's deliveries only. The status filter applies to the page read, so a filtered
/// page can hold fewer than <c>limit</c> items while <c>nextCursor</c> still says there is more.
/// </summary>
public sealed class ListWebhookDeliveries(WebhookDeliveryStore store)
{
    public async Task<Results<Ok<Page<WebhookDeliveryResponse>>, ProblemHttpResult>> ListAsync(
        Caller caller, string? connectionId, string? status, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var pageSize = Paging.Limit(limit, errors);
        if (connectionId is not null && !ConnectionId.TryParse(connectionId, out _))
        {
            errors.Add("connectionId", "Not a connection id.");
        }
        if (status is not null && !DeliveryStatus.All.Contains(status))
        {
            errors.Add("status", $"Must be one of: {string.Join(", ", DeliveryStatus.All)}.");
        }
        Paging.Cursor(cursor, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }
        if (caller.Scope is { } scope)
        {
            if (connectionId is not null && connectionId != scope.Value)
            {
                return TypedResults.Ok(new Page<WebhookDeliveryResponse>([], null));
            }
            connectionId = scope.Value;
        }
        var (entries, next) = await store.ListAsync(caller.AccountId, connectionId, null, cursor, pageSize, cancellationToken).ConfigureAwait(false);
        var items = entries
            .Where(e => status is null || e.Delivery.Status == status)
            .Select(e => WebhookDeliveryResponse.For(e.Delivery, e.Attempts))
            .ToList();
        return TypedResults.Ok(new Page<WebhookDeliveryResponse>(items, next));
    }

    public async Task<Results<Ok<WebhookDeliveryResponse>, ProblemHttpResult>> GetAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        var delivery = await FindAsync(store, caller, id, cancellationToken).ConfigureAwait(false);
        return delivery is null
            ? Problems.NotFound("webhook delivery")
            : TypedResults.Ok(WebhookDeliveryResponse.For(delivery, await store.ListAttemptsAsync(delivery, cancellationToken).ConfigureAwait(false)));
    }

    /// <summary>
    /// Object-level check: the caller's account owns the destination, and a scoped key covers the connection. The
    /// caller's partition is where its deliveries are, so another tenant's id is not found there; a legacy delivery
    /// names its owner in its row.
    /// </summary>
    public static async Task<WebhookDelivery?> FindAsync(WebhookDeliveryStore store, Caller caller, string id, CancellationToken cancellationToken)
    {
        if (!WebhookTable.IsDeliveryId(id))
        {
            return null;
        }
        var delivery = await store.GetDeliveryAsync(caller.AccountId, id, cancellationToken).ConfigureAwait(false);
        return delivery is not null && delivery.OwnerAccountId == caller.AccountId
            && (caller.Scope is null || delivery.ConnectionId == caller.Scope.Value.Value)
            ? delivery
            : null;
    }
}
