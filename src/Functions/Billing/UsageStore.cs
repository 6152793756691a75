using Azure;
using Azure.Data.Tables;
using ThreePL.Domain.Accounts;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;
using ThreePL.Functions.Orders;

namespace ThreePL.Functions.Billing;

/// <summary>One billable shipment ("order fee"), charged to <see cref="BilledAccountId"/>.</summary>
public sealed record UsageLine(
    AccountId BilledAccountId,
    SettingsOwner BilledTo,
    OrderId OrderId,
    string ExternalId,
    ConnectionId ConnectionId,
    AccountId MerchantAccountId,
    AccountId ThreePlAccountId,
    DateTimeOffset ShippedAt,
    string Carrier,
    string Service,
    string TrackingNumber)
{
    /// <summary>The shipment, except for an order's first one, whose line keeps the key it had before split shipments.</summary>
    public string? ShipmentId { get; init; }

    /// <summary>The line of a shipment as its <c>order.shipped</c> event carries it: the same line, and key, as one built from the order.</summary>
    public static UsageLine From(ShipmentUsage usage) =>
        new(AccountId.Parse(usage.BilledAccountId),
            PartyNames.TryParse(usage.BilledTo, out SettingsOwner billedTo) ? billedTo : throw new FormatException($"Unknown party '{usage.BilledTo}'."),
            OrderId.Parse(usage.OrderId),
            usage.ExternalId,
            ConnectionId.Parse(usage.ConnectionId),
            AccountId.Parse(usage.MerchantAccountId),
            AccountId.Parse(usage.ThreePlAccountId),
            usage.ShippedAt,
            usage.Carrier,
            usage.Service,
            usage.TrackingNumber)
        {
            ShipmentId = usage.FirstShipment ? null : usage.ShipmentId,
        };
}

/// <summary>
/// Table <c>billing</c>: partition <c>u|{billedAccountId}|{yyyy-MM}</c> (the month the order shipped, UTC), RowKey
/// <c>{connectionId}|{orderId}</c> for an order's first shipment and <c>{connectionId}|{orderId}|{shipmentId}</c> for
/// each later one (the first keeps the key lines had before split shipments). A month's report is one partition query, a connection (scoped key) a RowKey
/// range in it. Every part of the key comes from the shipment as its ship committed it (what its <c>order.shipped</c>
/// event carries, or the order row read back, which never changes after shipping), so every attempt to record the
/// same shipment names the same row: the insert is the idempotency check
/// (409 = already recorded), see docs/billing.md. Shipments of orders in their merchant's partition are not recorded here
/// but with the order's rows (<see cref="UsageRows"/>); <see cref="ListAsync"/> reads both places.
/// </summary>
public sealed class UsageStore(TableServiceClient tables, StorageNames names)
{
    public const string TableName = "billing";

    public TableClient Table => tables.GetTableClient(names.Table(TableName));

    public static string Partition(AccountId account, string month) => $"u|{account.Value}|{month}";

    public static string RowKey(ConnectionId connection, OrderId order, string? shipmentId = null) =>
        UsageRows.LineKey(connection.Value, order.Value, shipmentId);

    /// <summary>Inserts the line; false when it was recorded before.</summary>
    public async Task<bool> TryRecordAsync(UsageLine line, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(Partition(line.BilledAccountId, UsageRows.Month(line.ShippedAt)), RowKey(line.ConnectionId, line.OrderId, line.ShipmentId))
        {
            ["ShipmentId"] = line.ShipmentId,
            ["BilledTo"] = PartyNames.ToWire(line.BilledTo),
            ["OrderId"] = line.OrderId.Value,
            ["ExternalId"] = line.ExternalId,
            ["ConnectionId"] = line.ConnectionId.Value,
            ["MerchantAccountId"] = line.MerchantAccountId.Value,
            ["ThreePlAccountId"] = line.ThreePlAccountId.Value,
            ["ShippedAt"] = line.ShippedAt,
            ["Carrier"] = line.Carrier,
            ["Service"] = line.Service,
            ["TrackingNumber"] = line.TrackingNumber,
            ["RecordedAt"] = now,
        };
        try
        {
            await Table.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status409Conflict)
        {
            return false;
        }
    }

    /// <summary>
    /// Every line billed to <paramref name="account"/> for shipments in <paramref name="month"/>, optionally of one
    /// connection: those recorded here and those that rode with the orders' rows in the account's own partition of table
    /// <c>orders</c> (<see cref="UsageRows"/>; <c>m|</c> for a merchant, <c>t|</c> for a 3PL), read in parallel. A
    /// shipment whose line is in both places (billed here from an event committed before lines rode, then written again
    /// with its list row) is one line: the keys behind the month are the same.
    /// </summary>
    public async Task<IReadOnlyList<UsageLine>> ListAsync(AccountId account, AccountKind kind, string month, ConnectionId? connection, CancellationToken cancellationToken)
    {
        var partition = Partition(account, month);
        var recorded = ReadAsync(Table, connection is { } c
            ? TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {c.Value + "|"} and RowKey lt {c.Value + "}"}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {partition}"), account, row => row.RowKey, cancellationToken);
        var ordersPartition = kind == AccountKind.Merchant ? OrderIndex.MerchantPartition(account) : OrderIndex.ThreePlPartition(account);
        var (from, to) = UsageRows.Range(month, connection?.Value);
        var monthPrefix = UsageRows.Range(month, null).From.Length;
        var rode = ReadAsync(tables.GetTableClient(names.Table(OrderStore.TableName)),
            TableClient.CreateQueryFilter($"PartitionKey eq {ordersPartition} and RowKey ge {from} and RowKey lt {to}"), account, row => row.RowKey[monthPrefix..], cancellationToken);
        await Task.WhenAll(recorded, rode).ConfigureAwait(false);
        var lines = new Dictionary<string, UsageLine>(StringComparer.Ordinal);
        foreach (var (key, line) in recorded.Result.Concat(rode.Result))
        {
            lines.TryAdd(key, line);
        }
        return lines.Values.ToList();
    }

    /// <summary>The lines a query finds, each with its key behind the month (<paramref name="keyOf"/>).</summary>
    private static async Task<List<(string Key, UsageLine Line)>> ReadAsync(TableClient table, string filter, AccountId account, Func<TableEntity, string> keyOf, CancellationToken cancellationToken)
    {
        var lines = new List<(string, UsageLine)>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            PartyNames.TryParse(row.GetString("BilledTo"), out SettingsOwner billedTo);
            lines.Add((keyOf(row), new UsageLine(
                account,
                billedTo,
                OrderId.Parse(row.GetString("OrderId")!),
                row.GetString("ExternalId") ?? "",
                ConnectionId.Parse(row.GetString("ConnectionId")!),
                AccountId.Parse(row.GetString("MerchantAccountId")!),
                AccountId.Parse(row.GetString("ThreePlAccountId")!),
                row.GetDateTimeOffset("ShippedAt") ?? default,
                row.GetString("Carrier") ?? "",
                row.GetString("Service") ?? "",
                row.GetString("TrackingNumber") ?? "")
            {
                ShipmentId = row.GetString("ShipmentId"),
            }));
        }
        return lines;
    }
}
