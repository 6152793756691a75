using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Orders;

public sealed class GetOrder(OrderAccess access)
{
    public async Task<Results<Ok<OrderResponse>, ProblemHttpResult>> HandleAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        var found = await access.FindAsync(caller, id, cancellationToken).ConfigureAwait(false);
        return found is { } f ? TypedResults.Ok(OrderResponse.For(f.Order.Order, OrderViewer.Of(caller, f.Order.Order))) : Problems.NotFound("order");
    }
}
