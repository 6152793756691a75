using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Http;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Orders;

/// <summary>Absent <c>lines</c> ship every unit not yet shipped.</summary>
public sealed record ShipOrderRequest(string? Carrier, string? Service, string? TrackingNumber, IReadOnlyList<ShipmentLine?>? Lines);

public sealed record RejectOrderRequest(string? Reason, string? Message, IReadOnlyList<RejectionLine?>? Lines);

/// <summary>
/// Start, ship, accept or reject the fulfilment request, cancel, accept or reject a cancellation, place or release a
/// hold: each is one domain transition by the party the rule names (the merchant cancels; the 3PL accepts, rejects,
/// starts, ships and answers cancellation requests; either side holds), so they share this handler. The domain
/// decides what is allowed in which status.
/// </summary>
public sealed class ChangeOrderStatus(OrderAccess access, OrderCommands commands)
{
    /// <summary>
    /// The order as JSON must stay within one table row (see <see cref="FulfilmentColumns"/>) and, as the <c>data</c>
    /// of its event, within one queue message (64 KiB after base64). Intake allows 24 000 bytes
    /// (<see cref="SubmitOrder.MaxOrderJsonBytes"/>); shipments, holds and rejections may add up to this. A change
    /// that adds to the order (a shipment, a hold, a rejection) and would pass it is refused with <c>order_record_full</c>.
    /// </summary>
    public const int MaxOrderJsonBytes = 44_000;

    public const string OrderRecordFull = "order_record_full";

    public async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> HandleAsync(
        Caller caller,
        string id,
        Party? party,
        Func<Order, DateTimeOffset, Outcome<OrderEvent>> transition,
        CancellationToken cancellationToken,
        Func<Order, IReadOnlyDictionary<string, string[]>>? validate = null,
        bool grows = false)
    {
        var result = await RunAsync(caller, id, party, (_, o, now) => transition(o, now), validate, grows, cancellationToken).ConfigureAwait(false);
        return result.Problem is { } problem ? problem : TypedResults.Ok(OrderResponse.For(result.Order!, result.Viewer));
    }

    public Task<Results<Ok<OrderResponse>, ProblemHttpResult>> ShipAsync(Caller caller, string id, ShipOrderRequest request, CancellationToken cancellationToken)
    {
        var errors = Shipment.Validate(request.Carrier, request.Service, request.TrackingNumber);
        if (errors.Count > 0)
        {
            return Task.FromResult<Results<Ok<OrderResponse>, ProblemHttpResult>>(Problems.Validation(errors));
        }
        var shipmentId = Identifier.New(Shipment.IdPrefix);
        IReadOnlyList<ShipmentLine>? lines = request.Lines?.Select(l => l!).ToArray();
        return HandleAsync(caller, id, Party.ThreePl,
            (order, now) => order.Ship(shipmentId, request.Carrier!, request.Service!, request.TrackingNumber!, lines, now),
            cancellationToken,
            // A retried shipment (same tracking number) is answered by the domain, even once nothing is left to ship.
            order => order.Shipments.Any(s => s.TrackingNumber == request.TrackingNumber) ? new Dictionary<string, string[]>() : Shipment.ValidateLines(order, request.Lines),
            grows: true);
    }

    public Task<Results<Ok<OrderResponse>, ProblemHttpResult>> RejectAsync(Caller caller, string id, RejectOrderRequest request, CancellationToken cancellationToken)
    {
        var known = FulfilmentNames.TryParse(request.Reason, out RejectionReason reason);
        IReadOnlyList<RejectionLine>? lines = request.Lines?.Select(l => l!).ToArray();
        return HandleAsync(caller, id, Party.ThreePl, (order, now) => order.Reject(reason, request.Message, lines, now), cancellationToken,
            order => known ? Rejection.Validate(order, request.Message, request.Lines) : ReasonError(FulfilmentNames.RejectionReasons), grows: true);
    }

    /// <summary>
    /// Either side places a hold; the side is the caller's relation to the order, and each side needs its own write
    /// permission (<c>orders:write</c> for the merchant, <c>shipments:write</c> for the 3PL). A retried request (the
    /// same side, reason and note as a standing hold) is answered 200 with that hold; a new hold is 201.
    /// </summary>
    public async Task<Results<Created<HoldResponse>, Ok<HoldResponse>, ProblemHttpResult>> PlaceHoldAsync(Caller caller, string id, PlaceHoldRequest request, CancellationToken cancellationToken)
    {
        var known = FulfilmentNames.TryParse(request.Reason, out HoldReason reason);
        var holdId = Identifier.New(Hold.IdPrefix);
        var result = await RunAsync(caller, id, null, (party, order, now) => order.PlaceHold(holdId, reason, request.Note, party, now),
            _ => known ? Hold.Validate(request.Note) : ReasonError(FulfilmentNames.HoldReasons), true, cancellationToken).ConfigureAwait(false);
        if (result.Problem is { } problem)
        {
            return problem;
        }
        var order = result.Order!;
        if (order.Holds.FirstOrDefault(h => h.Id == holdId) is { } created)
        {
            return TypedResults.Created($"/v1/orders/{order.Id}", HoldResponse.For(created));
        }
        return TypedResults.Ok(HoldResponse.For(order.StandingHold(reason, request.Note, result.Party)
            ?? throw new InvalidOperationException($"Order {order.Id} took hold {holdId} with no event but has no hold like it.")));
    }

    public async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> ReleaseHoldAsync(Caller caller, string id, string holdId, CancellationToken cancellationToken)
    {
        var result = await RunAsync(caller, id, null, (party, order, now) => order.ReleaseHold(holdId, party, now), null, false, cancellationToken).ConfigureAwait(false);
        return result.Problem is { } problem ? problem : TypedResults.Ok(OrderResponse.For(result.Order!, result.Viewer));
    }

    private static Dictionary<string, string[]> ReasonError(IEnumerable<string> reasons) =>
        new() { ["reason"] = ["Must be one of: " + string.Join(", ", reasons) + "."] };

    /// <summary>Access is checked before input, so an outsider learns nothing from a validation answer.</summary>
    private async Task<(Order? Order, Party Party, OrderViewer Viewer, ProblemHttpResult? Problem)> RunAsync(
        Caller caller,
        string id,
        Party? party,
        Func<Party, Order, DateTimeOffset, Outcome<OrderEvent>> transition,
        Func<Order, IReadOnlyDictionary<string, string[]>>? validate,
        bool grows,
        CancellationToken cancellationToken)
    {
        var found = await access.FindAsync(caller, id, cancellationToken).ConfigureAwait(false);
        if (found is not { } f)
        {
            return (null, default, default, Problems.NotFound("order"));
        }
        if (party is { } required && f.Party != required)
        {
            return (null, f.Party, default, OrderAccess.WrongParty(required));
        }
        var permission = f.Party == Party.Merchant ? "orders:write" : "shipments:write";
        if (party is null && !caller.Permissions.Allows(permission))
        {
            return (null, f.Party, default, Problems.Forbidden("missing_permission", $"This API key lacks the '{permission}' permission, which the {PartyNames.ToWire(f.Party)} needs for this."));
        }
        // Taken before the command: it decides on this very order, which changes in place.
        var viewer = OrderViewer.Of(caller, f.Order.Order);
        IReadOnlyDictionary<string, string[]>? invalid = null;
        var result = await commands.TransitionAsync(f.Order.Order.Id, (order, now) =>
        {
            if (validate?.Invoke(order) is { Count: > 0 } errors)
            {
                invalid = errors;
                return Outcome<OrderEvent>.Failure(OrderErrors.ValidationFailed, "The request is invalid.");
            }
            if (!grows)
            {
                return transition(f.Party, order, now);
            }
            // Tried on a copy first: a change that would outgrow the row or the event message must leave the order as it was.
            var trial = Order.Restore(order.ToState());
            var outcome = transition(f.Party, trial, now);
            if (outcome.Succeeded && outcome.Events.Count > 0
                && JsonSerializer.SerializeToUtf8Bytes(OrderResponse.For(trial), EventEnvelope.Json).Length > MaxOrderJsonBytes)
            {
                return Outcome<OrderEvent>.Failure(OrderRecordFull, $"The order would exceed {MaxOrderJsonBytes} bytes as JSON; ship the rest in fewer shipments or release holds.");
            }
            return outcome.Succeeded ? transition(f.Party, order, now) : outcome;
        }, cancellationToken, alreadyRead: f.Order).ConfigureAwait(false);
        if (result.NotFound)
        {
            return (null, f.Party, default, Problems.NotFound("order"));
        }
        if (result.Error is { } error)
        {
            return (null, f.Party, default, error.Code == OrderErrors.ValidationFailed && invalid is not null
                ? Problems.Validation(invalid)
                : OrderAccess.Problem(error, result.Order!.Order));
        }
        return (result.Order!.Order, f.Party, viewer, null);
    }
}

public sealed record PlaceHoldRequest(string? Reason, string? Note);
