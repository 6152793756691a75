using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Orders;

namespace ThreePL.Functions.Billing;

/// <summary>
/// Records the order fee of one shipment under a key derived from the order and the shipment alone, so a repeated call
/// finds the row and does nothing. The line comes from what the shipment's <c>order.shipped</c> event carries
/// (<see cref="UsageLine.From"/>: one insert), or, for a message sent before events carried it, from the order read
/// back: the account its delegation snapshot names (<c>orderFeeBilledTo</c>: the 3PL of the connection or the
/// merchant), the same line and key either way.
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
        await RecordAsync(new UsageLine(billed, delegation.OrderFeeBilledTo, order.Id, order.ExternalId, delegation.ConnectionId,
            order.MerchantAccountId, threePl, shipment.ShippedAt, shipment.Carrier, shipment.Service, shipment.TrackingNumber)
        {
            ShipmentId = shipment.Id == order.Shipments[0].Id ? null : shipment.Id,
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Inserts <paramref name="line"/> unless it was recorded before.</summary>
    public async Task RecordAsync(UsageLine line, CancellationToken cancellationToken)
    {
        if (!await usage.TryRecordAsync(line, time.GetUtcNow(), cancellationToken).ConfigureAwait(false))
        {
            logger.LogInformation("Usage of order {OrderId} shipment {ShipmentId} was already recorded", line.OrderId, line.ShipmentId);
        }
    }
}
