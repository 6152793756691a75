using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Orders;

/// <summary>
/// Object-level authorisation for orders. The merchant sees its orders; the 3PL sees an order while it is
/// delegated to one of its connections (a cancelled order keeps its delegation, a handed-back one does not);
/// a connection-scoped key sees only that connection's orders. Anything else is 404, never 403.
/// </summary>
public sealed class OrderAccess(OrderStore store)
{
    public async Task<(StoredOrder Order, Party Party)?> FindAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        if (!OrderId.TryParse(id, out var orderId))
        {
            return null;
        }
        var stored = await store.GetAsync(orderId, cancellationToken).ConfigureAwait(false);
        return stored is null ? null : PartyOf(caller, stored) is { } party ? (stored, party) : null;
    }

    public static Party? PartyOf(Caller caller, StoredOrder stored)
    {
        var order = stored.Order;
        if (order.MerchantAccountId == caller.AccountId && (caller.Scope is null || caller.Scope == order.ConnectionId))
        {
            return Party.Merchant;
        }
        if (stored.ThreePlAccountId == caller.AccountId && order.ConnectionId is { } connection && caller.CanSee(connection))
        {
            return Party.ThreePl;
        }
        return null;
    }

    public static ProblemHttpResult Problem(DomainError error, Order order) =>
        DomainProblems.For(error, OrderStatusNames.ToWire(order.Status));

    public static ProblemHttpResult WrongParty(Party required) => required == Party.Merchant
        ? Problems.Forbidden("merchant_only", "Only the merchant that owns the order can do this.")
        : Problems.Forbidden("threepl_only", "Only the 3PL the order is delegated to can do this.");
}
