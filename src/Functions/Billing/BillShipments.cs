using System.Text.Json;
using ThreePL.Domain.Common;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Billing;

/// <summary>
/// Bills each shipment from its <c>order.shipped</c> event (<see cref="IEventSubscriber"/>): the ship command commits
/// the event with its change, so the line is recorded exactly when the event is published, at least once and keyed
/// once. The event carries the line's content as the ship committed it (<see cref="EventEnvelope.Usage"/>), so
/// recording is one insert. An event committed before it carried that is billed from the order read back: its data is
/// the order at that version, whose last shipment is the one the event is about. An order in its merchant's partition
/// writes the line with its own rows (<see cref="ShipmentUsage.RecordedWithOrder"/>, docs/billing.md): nothing to do.
/// </summary>
public sealed class BillShipments(UsageRecorder recorder) : IEventSubscriber
{
    public const string ShippedType = "order.shipped";

    public Task OnEventAsync(EventEnvelope envelope, CancellationToken cancellationToken)
    {
        if (envelope.Type != ShippedType)
        {
            return Task.CompletedTask;
        }
        if (envelope.Usage is { } usage)
        {
            // A line that rode with the order's rows is recorded already: inserting it here would bill it in a second place.
            return usage.RecordedWithOrder ? Task.CompletedTask : recorder.RecordAsync(UsageLine.From(usage), cancellationToken);
        }
        if (!OrderId.TryParse(envelope.OrderId, out var id)
            || !envelope.Data.TryGetProperty("shipments", out var shipments) || shipments.ValueKind != JsonValueKind.Array || shipments.GetArrayLength() == 0)
        {
            return Task.CompletedTask;
        }
        var shipmentId = shipments[shipments.GetArrayLength() - 1].TryGetProperty("id", out var value) ? value.GetString() : null;
        return shipmentId is null ? Task.CompletedTask : recorder.RecordAsync(id, shipmentId, cancellationToken);
    }
}
