using System.Text.Json.Serialization;

namespace ThreePL.Functions.Messaging;

/// <summary>
/// What one shipment bills, as the ship that made it committed it: the parties and who pays (from the order's
/// settings snapshot), the order and the shipment. Orders puts it on the shipment's <c>order.shipped</c> event
/// (<see cref="EventEnvelope.Usage"/>), billing records the line from it without reading the order back. A contract of
/// its own, so neither feature depends on the other's internals.
/// </summary>
/// <param name="BilledAccountId">The account charged: the 3PL's or the merchant's, as <paramref name="BilledTo"/> says.</param>
/// <param name="BilledTo">The snapshot's <c>orderFeeBilledTo</c>: <c>threepl</c> or <c>merchant</c>.</param>
/// <param name="OrderId">The order.</param>
/// <param name="ExternalId">The shop's order id.</param>
/// <param name="ConnectionId">The connection the order was delegated to.</param>
/// <param name="MerchantAccountId">The merchant.</param>
/// <param name="ThreePlAccountId">The connection's 3PL.</param>
/// <param name="ShipmentId">The shipment.</param>
/// <param name="FirstShipment">Whether it is the order's first shipment, whose line keeps the key lines had before split shipments.</param>
/// <param name="ShippedAt">When it shipped (its line's month).</param>
/// <param name="Carrier">The carrier.</param>
/// <param name="Service">The carrier's service.</param>
/// <param name="TrackingNumber">The tracking number.</param>
public sealed record ShipmentUsage(
    string BilledAccountId,
    string BilledTo,
    string OrderId,
    string ExternalId,
    string ConnectionId,
    string MerchantAccountId,
    string ThreePlAccountId,
    string ShipmentId,
    bool FirstShipment,
    DateTimeOffset ShippedAt,
    string Carrier,
    string Service,
    string TrackingNumber)
{
    /// <summary>
    /// Set when the line was written with the order's own rows (an order in its merchant's partition: in the ship's
    /// commit, or with the 3PL's list row), so billing must not record it again; absent on events of orders stored
    /// apart and on events committed before lines rode (docs/billing.md).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool RecordedWithOrder { get; init; }
}
