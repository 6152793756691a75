using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Accounts;
using ThreePL.Domain.Common;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Http;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Orders;

public sealed record SubmitOrderRequest(string? ExternalId, IReadOnlyList<OrderLine?>? Lines, Address? ShipTo, string? ShippingService, string? Notes);

/// <summary>
/// Intake. Idempotent on <c>externalId</c> per merchant: the order id is derived from both, so the same
/// order sent again (or twice at once) finds the first one and answers 200 with it. Routing is requested
/// through the outbox, so an accepted order is routed even if the process dies right after the commit.
/// While routing is backed up (<see cref="IntakeBackpressure"/>) a new order is refused with 503 <c>overloaded</c>
/// and <c>Retry-After</c>; an order already accepted still answers 200, so a client that lost our first answer
/// learns that its order is in without waiting for the backlog, and that answer adds no work.
/// </summary>
public sealed class SubmitOrder(OrderCommands commands, OrderStore store, IntakeBackpressure backpressure, TimeProvider time)
{
    /// <summary>
    /// The order as JSON must fit in one table property (32 K UTF-16 characters) and, inside its event, in one
    /// queue message (64 KiB after base64); this bound keeps both with room for the envelope.
    /// </summary>
    public const int MaxOrderJsonBytes = 24_000;

    public async Task<Results<Created<OrderResponse>, Ok<OrderResponse>, ProblemHttpResult, RetryLaterResult>> HandleAsync(Caller caller, SubmitOrderRequest request, CancellationToken cancellationToken)
    {
        if (caller.Kind != AccountKind.Merchant)
        {
            return OrderAccess.WrongParty(Domain.Connections.Party.Merchant);
        }
        var draft = OrderDraft.Validate(request.ExternalId, request.Lines, request.ShipTo, request.ShippingService, request.Notes);
        if (!draft.Succeeded)
        {
            return Problems.Validation(draft.Errors);
        }
        var (order, received) = Order.Create(OrderStore.IdFor(caller.AccountId, draft.Draft!.ExternalId), caller.AccountId, draft.Draft, time.GetUtcNow());
        var size = JsonSerializer.SerializeToUtf8Bytes(OrderResponse.For(order), EventEnvelope.Json).Length;
        if (size > MaxOrderJsonBytes)
        {
            return Problems.Validation("lines", $"The order is too large ({size} bytes as JSON; at most {MaxOrderJsonBytes}). Shorten names or notes, or split the order.");
        }
        if (await backpressure.RetryAfterAsync(cancellationToken).ConfigureAwait(false) is { } retryAfter)
        {
            return await store.GetAsync(order.Id, cancellationToken).ConfigureAwait(false) is { } existing
                ? TypedResults.Ok(OrderResponse.For(existing.Order, OrderViewer.Of(caller, existing.Order)))
                : Problems.Overloaded("Orders are waiting to be routed beyond the configured backlog; submit this order again after Retry-After seconds.", retryAfter);
        }
        var (stored, created) = await commands.CreateAsync(order, received, cancellationToken).ConfigureAwait(false);
        var response = OrderResponse.For(stored.Order, OrderViewer.Of(caller, stored.Order));
        return created ? TypedResults.Created($"/v1/orders/{order.Id}", response) : TypedResults.Ok(response);
    }
}
