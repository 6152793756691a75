using ThreePL.Domain.Connections;
using ThreePL.Domain.Orders;

namespace ThreePL.Functions.Orders;

public sealed record ShipmentResponse(string Id, string Carrier, string Service, string TrackingNumber, IReadOnlyList<ShipmentLine> Lines, DateTimeOffset ShippedAt)
{
    public static ShipmentResponse For(Shipment s) => new(s.Id, s.Carrier, s.Service, s.TrackingNumber, s.Lines, s.ShippedAt);
}

public sealed record OrderLineResponse(string Sku, int Quantity, string? Name, int QuantityShipped);

/// <summary><c>status</c> is <c>pending</c> until the 3PL accepts (explicitly, or by starting or shipping), then <c>accepted</c>.</summary>
public sealed record FulfillmentRequestResponse(string Status, DateTimeOffset RequestedAt, DateTimeOffset? AcceptedAt, DateTimeOffset? OverdueAt);

public sealed record HoldResponse(string Id, string Reason, string? Note, string PlacedBy, DateTimeOffset PlacedAt)
{
    public static HoldResponse For(Hold h) => new(h.Id, FulfilmentNames.ToWire(h.Reason), h.Note, PartyNames.ToWire(h.PlacedBy), h.PlacedAt);
}

public sealed record RejectionResponse(string ConnectionId, string Reason, string? Message, IReadOnlyList<RejectionLine> Lines, DateTimeOffset RejectedAt);

/// <summary>
/// <c>GET /v1/orders/{id}</c>, and the <c>data</c> of every order event, so a webhook carries exactly what the
/// API shows. Both parties see the same fields: the settings snapshot (version, internal customer id) is what
/// the order was delegated under, whatever the connection's settings say today. <c>shipment</c> is the latest of
/// <c>shipments</c>, kept for clients written before split shipments.
/// </summary>
public sealed record OrderResponse(
    string Id,
    string ExternalId,
    string Status,
    string MerchantAccountId,
    string? ConnectionId,
    int? SettingsVersion,
    string? InternalCustomerId,
    IReadOnlyList<OrderLineResponse> Lines,
    Address ShipTo,
    string? ShippingService,
    string? Notes,
    FulfillmentRequestResponse? FulfillmentRequest,
    ShipmentResponse? Shipment,
    IReadOnlyList<ShipmentResponse> Shipments,
    IReadOnlyList<HoldResponse> Holds,
    IReadOnlyList<RejectionResponse> Rejections,
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
        order.Lines.Select(l => new OrderLineResponse(l.Sku, l.Quantity, l.Name, order.QuantityShipped(l.Sku))).ToArray(),
        order.ShipTo,
        order.ShippingService,
        order.Notes,
        order.Request is { } r ? new FulfillmentRequestResponse(r.IsAccepted ? "accepted" : "pending", r.RequestedAt, r.AcceptedAt, r.OverdueAt) : null,
        order.Shipment is { } s ? ShipmentResponse.For(s) : null,
        order.Shipments.Select(ShipmentResponse.For).ToArray(),
        order.Holds.Select(HoldResponse.For).ToArray(),
        order.Rejections.Select(x => new RejectionResponse(x.ConnectionId.Value, FulfilmentNames.ToWire(x.Reason), x.Message, x.Lines, x.RejectedAt)).ToArray(),
        order.CancellationRequestedAt,
        order.Version,
        order.CreatedAt,
        order.UpdatedAt);
}
