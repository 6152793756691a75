using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Orders;

namespace ThreePL.Functions.Billing;

/// <summary>
/// Records the order fee of one shipment: reads the order, bills the account its delegation snapshot names
/// (<c>orderFeeBilledTo</c>: the 3PL of the connection or the merchant) and inserts the line under a key derived from
/// the order and the shipment alone, so a repeated call finds the row and does nothing.
/// </summary>
public sealed class UsageRecorder(OrderStore orders, UsageStore usage, TimeProvider time, ILogger<UsageRecorder> logger)
{
    /// <param name="id">The order.</param>
    /// <param name="shipmentId">The shipment; null means the order's first (messages sent before split shipments).</param>
    /// <param name="cancellationToken">Cancels the recording.</param>
    public async Task RecordAsync(OrderId id, string? shipmentId, CancellationToken cancellationToken)
    {
        var stored = await orders.GetAsync(id, cancellationToken).ConfigureAwait(false);
        var shipment = stored?.Order.Shipments.FirstOrDefault(s => shipmentId is null || s.Id == shipmentId);
        if (stored is not { Order: { Delegation: { } delegation } order } || shipment is null || stored.ThreePlAccountId is not { } threePl)
        {
            logger.LogWarning("Order {OrderId} has no shipment {ShipmentId} under a delegation; no usage recorded", id, shipmentId);
            return;
        }
        var billed = delegation.OrderFeeBilledTo == SettingsOwner.ThreePl ? threePl : order.MerchantAccountId;
        var line = new UsageLine(billed, delegation.OrderFeeBilledTo, order.Id, order.ExternalId, delegation.ConnectionId,
            order.MerchantAccountId, threePl, shipment.ShippedAt, shipment.Carrier, shipment.Service, shipment.TrackingNumber)
        {
            ShipmentId = shipment.Id == order.Shipments[0].Id ? null : shipment.Id,
        };
        if (!await usage.TryRecordAsync(line, time.GetUtcNow(), cancellationToken).ConfigureAwait(false))
        {
            logger.LogInformation("Usage of order {OrderId} was already recorded", id);
        }
    }
}
