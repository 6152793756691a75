using ThreePL.Domain.Orders;

namespace ThreePL.Functions.Orders;

public sealed record ShipmentResponse(string Carrier, string Service, string TrackingNumber, DateTimeOffset ShippedAt);

/// <summary>
/// <c>GET /v1/orders/{id}</c>, and the <c>data</c> of every order event, so a webhook carries exactly what the
/// API shows. Both parties see the same fields: the settings snapshot (version, internal customer id) is what
/// the order was delegated under, whatever the connection's settings say today.
/// </summary>
public sealed record OrderResponse(
    string Id,
    string ExternalId,
    string Status,
    string MerchantAccountId,
    string? ConnectionId,
    int? SettingsVersion,
    string? InternalCustomerId,
    IReadOnlyList<OrderLine> Lines,
    Address ShipTo,
    string? ShippingService,
    string? Notes,
    ShipmentResponse? Shipment,
    DateTimeOffset? CancellationRequestedAt,
    long Version,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static OrderResponse For(Order order) => new(
        order.Id.Value,
        order.ExternalId,
        OrderStatusNames.ToWire(order.Status),
        order.MerchantAccountId.Value,
        order.ConnectionId?.Value,
        order.Delegation?.SettingsVersion,
        order.Delegation?.InternalCustomerId,
        order.Lines,
        order.ShipTo,
        order.ShippingService,
        order.Notes,
        order.Shipment is { } s ? new ShipmentResponse(s.Carrier, s.Service, s.TrackingNumber, s.ShippedAt) : null,
        order.CancellationRequestedAt,
        order.Version,
        order.CreatedAt,
        order.UpdatedAt);
}
