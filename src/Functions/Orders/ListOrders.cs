using Azure.Data.Tables;
using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Accounts;
using ThreePL.Domain.Common;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Http;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Orders;

/// <summary>
/// The caller's orders: a merchant's from its <c>m|</c> partition (where an order is its own list row, and an order
/// stored apart has a projection), a 3PL's (only those delegated to it) from its <c>t|</c> partition, where a
/// connection is a RowKey range. Status and connection filter on the rows on the server, then every projected order is
/// read and checked again (the order row is the truth; a projection may lag a moment behind a commit), so a page may
/// hold fewer than <c>limit</c> items while
/// <c>nextCursor</c> still says there is more. With <c>updatedSince</c> the same orders come in the order they
/// changed, from <see cref="OrderChangeFeed"/>.
/// </summary>
public sealed class ListOrders(OrderStore store, OrderChangeFeed changes)
{
    public async Task<Results<Ok<Page<OrderResponse>>, ProblemHttpResult>> HandleAsync(
        Caller caller, string? status, string? connectionId, string? updatedSince, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var pageSize = Paging.Limit(limit, errors);
        var since = Rfc3339.Parse(updatedSince, "updatedSince", errors);
        OrderStatus? wanted = null;
        if (status is not null)
        {
            if (OrderStatusNames.TryParse(status, out var parsed))
            {
                wanted = parsed;
            }
            else
            {
                errors.Add("status", $"Must be one of: {string.Join(", ", OrderStatusNames.All)}.");
            }
        }
        ConnectionId? connection = null;
        if (connectionId is not null)
        {
            if (ConnectionId.TryParse(connectionId, out var parsed))
            {
                connection = parsed;
            }
            else
            {
                errors.Add("connectionId", "Must be a connection id.");
            }
        }
        Paging.Cursor(cursor, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }
        if (caller.Scope is { } scope)
        {
            if (connection is not null && connection != scope)
            {
                return TypedResults.Ok(new Page<OrderResponse>([], null));
            }
            connection = scope;
        }
        if (since is { } changedSince)
        {
            return TypedResults.Ok(await changes.ListAsync(caller, changedSince, wanted, connection, cursor, pageSize, cancellationToken).ConfigureAwait(false));
        }

        var filter = Filter(caller, wanted, connection);
        var page = await store.Table.QueryPageAsync(filter, cursor, pageSize, cancellationToken: cancellationToken).ConfigureAwait(false);
        var orders = await Task.WhenAll(page.Items.Select(row => store.ReadListedAsync(row, cancellationToken))).ConfigureAwait(false);
        var visible = orders
            .Where(o => o is not null && IsListed(caller, o, wanted, connection))
            .Select(o => OrderResponse.For(o!.Order, OrderViewer.Of(caller, o.Order)))
            .ToList();
        return TypedResults.Ok(new Page<OrderResponse>(visible, page.ContinuationToken));
    }

    /// <summary>Whether the order, as read now, belongs in the caller's list with these filters.</summary>
    public static bool IsListed(Caller caller, StoredOrder order, OrderStatus? status, ConnectionId? connection) =>
        OrderAccess.PartyOf(caller, order) is not null
        && (caller.Kind == AccountKind.Merchant ? order.Order.MerchantAccountId == caller.AccountId : order.ThreePlAccountId == caller.AccountId)
        && (status is null || order.Order.Status == status)
        && (connection is null || order.Order.ConnectionId == connection);

    private static string Filter(Caller caller, OrderStatus? status, ConnectionId? connection)
    {
        var wire = status is { } s ? OrderStatusNames.ToWire(s) : null;
        const string end = OrderChangeFeed.ListRowsEnd;
        if (caller.Kind == AccountKind.Merchant)
        {
            var partition = OrderIndex.MerchantPartition(caller.AccountId);
            return (wire, connection) switch
            {
                (null, null) => TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey lt {end}"),
                (not null, null) => TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey lt {end} and Status eq {wire}"),
                (null, { } c) => TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey lt {end} and ConnectionId eq {c.Value}"),
                ({ } w, { } c) => TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey lt {end} and Status eq {w} and ConnectionId eq {c.Value}"),
            };
        }
        var threePl = OrderIndex.ThreePlPartition(caller.AccountId);
        if (connection is { } only)
        {
            var (from, to) = OrderIndex.ConnectionRange(only);
            return wire is null
                ? TableClient.CreateQueryFilter($"PartitionKey eq {threePl} and RowKey ge {from} and RowKey lt {to}")
                : TableClient.CreateQueryFilter($"PartitionKey eq {threePl} and RowKey ge {from} and RowKey lt {to} and Status eq {wire}");
        }
        return wire is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {threePl} and RowKey lt {end}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {threePl} and RowKey lt {end} and Status eq {wire}");
    }
}
