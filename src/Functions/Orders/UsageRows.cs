using System.Globalization;
using Azure.Data.Tables;
using ThreePL.Domain.Connections;
using ThreePL.Domain.Orders;

namespace ThreePL.Functions.Orders;

/// <summary>
/// The usage line ("order fee") of a shipment of an order in its merchant's partition, as a row of table <c>orders</c>
/// in the billed account's own list partition, written in an entity-group transaction the order writes anyway instead
/// of by an insert of its own into the billing table (docs/billing.md): in the ship's commit when the merchant pays
/// (<c>m|{merchantId}</c>), with the 3PL's list row when the 3PL pays (<c>t|{threePlId}</c>). RowKey
/// <c>~b|{yyyy-MM}|{connectionId}|{orderId}</c> for an order's first shipment and <c>…|{shipmentId}</c> for each later
/// one: the billing table's key behind the month (the UTC month of <c>shippedAt</c>), so a month is a prefix of the
/// account's partition and a connection a range in it, and a line found in both places is one shipment. A line is built
/// from the order as committed only (a shipment and the settings snapshot never change), so every write of it writes
/// the same row, and an upsert is its idempotency. The rows sort after every list row (<c>~</c>) and after the change
/// rows' prefixes, so no list or feed query meets them.
/// </summary>
public static class UsageRows
{
    public const string Prefix = "~b|";

    /// <summary>Whether the usage lines of <paramref name="stored"/> ride with its rows: an order in its merchant's partition, delegated to a known 3PL.</summary>
    public static bool Ride(StoredOrder stored) =>
        stored.Order.Id.Merchant is not null && stored.Order.Delegation is not null && stored.ThreePlAccountId is not null;

    /// <summary>The month a line belongs to: the UTC month of its shipment, in both places a line may be.</summary>
    public static string Month(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    /// <summary>
    /// A line's key behind the month, the same in both places (the billing table's RowKey): the report takes a line
    /// found in both for one shipment by it. <paramref name="laterShipmentId"/> is null for an order's first shipment.
    /// </summary>
    public static string LineKey(string connectionId, string orderId, string? laterShipmentId) =>
        connectionId + "|" + orderId + (laterShipmentId is null ? "" : "|" + laterShipmentId);

    /// <summary>RowKey bounds of a month's lines, or of one connection's lines in that month.</summary>
    public static (string From, string To) Range(string month, string? connectionId) =>
        connectionId is null
            ? (Prefix + month + "|", Prefix + month + "}")
            : (Prefix + month + "|" + connectionId + "|", Prefix + month + "|" + connectionId + "}");

    /// <summary>The lines of the shipments this change makes, when they ride in its commit: the merchant pays.</summary>
    public static IEnumerable<TableEntity> InCommit(StoredOrder updated, IEnumerable<OrderEvent> events) =>
        Ride(updated) && updated.Order.Delegation!.OrderFeeBilledTo == SettingsOwner.Merchant
            ? events.OfType<OrderShipped>().Select(e => Line(updated, e.Shipment))
            : [];

    /// <summary>
    /// The lines of every shipment of the order, when they ride with its 3PL's list row: the 3PL pays. Every write of
    /// that row carries them all, so a list row at a version has the lines of every shipment up to it, however the
    /// syncs of earlier versions fared (one skipped because a later one had written the row already writes none).
    /// </summary>
    public static IReadOnlyList<TableEntity> WithThreePlListRow(StoredOrder stored) =>
        Ride(stored) && stored.Order.Delegation!.OrderFeeBilledTo == SettingsOwner.ThreePl
            ? stored.Order.Shipments.Select(s => Line(stored, s)).ToList()
            : [];

    private static TableEntity Line(StoredOrder stored, Shipment shipment)
    {
        var order = stored.Order;
        var delegation = order.Delegation!;
        var threePl = stored.ThreePlAccountId!.Value;
        var partition = delegation.OrderFeeBilledTo == SettingsOwner.ThreePl ? OrderIndex.ThreePlPartition(threePl) : OrderIndex.MerchantPartition(order.MerchantAccountId);
        var later = shipment.Id == order.Shipments[0].Id ? null : shipment.Id;
        var rowKey = Prefix + Month(shipment.ShippedAt) + "|" + LineKey(delegation.ConnectionId.Value, order.Id.Value, later);
        return new TableEntity(partition, rowKey)
        {
            ["ShipmentId"] = later,
            ["BilledTo"] = PartyNames.ToWire(delegation.OrderFeeBilledTo),
            ["OrderId"] = order.Id.Value,
            ["ExternalId"] = order.ExternalId,
            ["ConnectionId"] = delegation.ConnectionId.Value,
            ["MerchantAccountId"] = order.MerchantAccountId.Value,
            ["ThreePlAccountId"] = threePl.Value,
            ["ShippedAt"] = shipment.ShippedAt,
            ["Carrier"] = shipment.Carrier,
            ["Service"] = shipment.Service,
            ["TrackingNumber"] = shipment.TrackingNumber,
        };
    }
}
