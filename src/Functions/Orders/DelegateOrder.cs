using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Orders;

public sealed record DelegateOrderRequest(string? ConnectionId);

/// <summary>The merchant sets the fulfilment provider of one open order by hand (ShipStation's manual choice).</summary>
public sealed class DelegateOrder(OrderAccess access, OrderRouter router)
{
    public async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> HandleAsync(Caller caller, string id, DelegateOrderRequest request, CancellationToken cancellationToken)
    {
        var found = await access.FindAsync(caller, id, cancellationToken).ConfigureAwait(false);
        if (found is not { } f)
        {
            return Problems.NotFound("order");
        }
        if (f.Party != Party.Merchant)
        {
            return OrderAccess.WrongParty(Party.Merchant);
        }
        if (!ConnectionId.TryParse(request.ConnectionId, out var connectionId) || !caller.CanSee(connectionId))
        {
            return Problems.Validation("connectionId", request.ConnectionId is null ? "This field is required." : "Must be one of your connection ids.");
        }
        var result = await router.DelegateAsync(f.Order.Order.Id, connectionId, caller.AccountId, null, cancellationToken).ConfigureAwait(false);
        if (result.Error is { } error)
        {
            return OrderAccess.Problem(error, result.Order?.Order ?? f.Order.Order);
        }
        return result.NotFound ? Problems.NotFound("order") : TypedResults.Ok(OrderResponse.For(result.Order!.Order, OrderViewer.Of(caller, f.Order.Order)));
    }
}
