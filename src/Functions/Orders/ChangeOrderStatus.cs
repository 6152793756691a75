using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Orders;

public sealed record ShipOrderRequest(string? Carrier, string? Service, string? TrackingNumber);

/// <summary>
/// Start, ship, cancel, accept or reject a cancellation: each is one domain transition by the party the rule
/// names (the merchant cancels; the 3PL starts, ships and answers cancellation requests), so they share this
/// handler. The domain decides what is allowed in which status.
/// </summary>
public sealed class ChangeOrderStatus(OrderAccess access, OrderCommands commands)
{
    public async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> HandleAsync(
        Caller caller,
        string id,
        Party party,
        Func<Order, DateTimeOffset, Outcome<OrderEvent>> transition,
        CancellationToken cancellationToken)
    {
        var found = await access.FindAsync(caller, id, cancellationToken).ConfigureAwait(false);
        if (found is not { } f)
        {
            return Problems.NotFound("order");
        }
        if (f.Party != party)
        {
            return OrderAccess.WrongParty(party);
        }
        var result = await commands.TransitionAsync(f.Order.Order.Id, transition, cancellationToken).ConfigureAwait(false);
        if (result.NotFound)
        {
            return Problems.NotFound("order");
        }
        return result.Error is { } error
            ? OrderAccess.Problem(error, result.Order!.Order)
            : TypedResults.Ok(OrderResponse.For(result.Order!.Order));
    }

    public Task<Results<Ok<OrderResponse>, ProblemHttpResult>> ShipAsync(Caller caller, string id, ShipOrderRequest request, CancellationToken cancellationToken)
    {
        var errors = Shipment.Validate(request.Carrier, request.Service, request.TrackingNumber);
        if (errors.Count > 0)
        {
            return Task.FromResult<Results<Ok<OrderResponse>, ProblemHttpResult>>(Problems.Validation(errors));
        }
        return HandleAsync(caller, id, Party.ThreePl, (order, now) => order.Ship(request.Carrier!, request.Service!, request.TrackingNumber!, now), cancellationToken);
    }
}
