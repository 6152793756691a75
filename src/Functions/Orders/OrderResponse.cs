using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Domain.Orders;

namespace ThreePL.Functions.Orders;

public sealed record ShipmentResponse(string Id, string Carrier, string Service, string TrackingNumber, IReadOnlyList<ShipmentLine> Lines, DateTimeOffset ShippedAt)
{
    public static ShipmentResponse For(Shipment s) => new(s.Id, s.Carrier, s.Service, s.TrackingNumber, s.Lines, s.ShippedAt);
}

public sealed record OrderLineResponse(string Sku, int Quantity, string? Name, int QuantityShipped);

/// <summary><c>status</c> is <c>pending</c> until the 3PL accepts (explicitly, or by starting or shipping), then <c>accepted</c>.</summary>
public sealed record FulfillmentRequestResponse(string Status, DateTimeOffset RequestedAt, DateTimeOffset? AcceptedAt, DateTimeOffset? OverdueAt)
{
    public const string Pending = "pending";
    public const string Accepted = "accepted";
}

public sealed record HoldResponse(string Id, string Reason, string? Note, string PlacedBy, DateTimeOffset PlacedAt)
{
    public static HoldResponse For(Hold h) => new(h.Id, FulfilmentNames.ToWire(h.Reason), h.Note, PartyNames.ToWire(h.PlacedBy), h.PlacedAt);
}

public sealed record RejectionResponse(string ConnectionId, string Reason, string? Message, IReadOnlyList<RejectionLine> Lines, DateTimeOffset RejectedAt);

/// <summary>
/// Who reads an order, for what the representation may show (<see cref="OrderResponse.SeenBy"/>): the merchant's
/// unscoped callers see everything; a 3PL and any caller scoped to a connection see the order as that connection
/// does. <see cref="Connection"/> is null for the merchant's full view.
/// </summary>
public readonly record struct OrderViewer(bool SeesAll, ConnectionId? Connection)
{
    public static readonly OrderViewer Merchant = new(true, null);

    public static OrderViewer Of(ConnectionId? connection) => new(false, connection);

    /// <summary>
    /// The viewer a caller is, for the order as it found it: the 3PL's connection (and a scoped key's) is the one the
    /// order was delegated to when found, so the 3PL that has just rejected it still reads its own rejection.
    /// </summary>
    public static OrderViewer Of(Http.Caller caller, Order found) =>
        caller.AccountId == found.MerchantAccountId && caller.Scope is null ? Merchant : Of(caller.Scope ?? found.ConnectionId);
}

/// <summary>
/// <c>GET /v1/orders/{id}</c>, and the <c>data</c> of every order event, so a webhook carries exactly what the
/// API shows its recipient. The settings snapshot (version, internal customer id) is what the order was delegated
/// under, whatever the connection's settings say today; it, the fulfilment request and the 3PL's holds belong to
/// the current delegation and leave with a hand-back. What outlives a delegation is the rejections list: each
/// entry names the connection that rejected, so a viewer confined to a connection sees that connection's entries
/// only (<see cref="SeenBy"/>), never a competing 3PL's. <c>shipment</c> is the latest of <c>shipments</c>, kept
/// for clients written before split shipments.
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
    public static OrderResponse For(Order order, OrderViewer viewer) => For(order).SeenBy(viewer);

    /// <summary>The representation as <paramref name="viewer"/> may see it; the one rule for GET, lists and event data.</summary>
    public OrderResponse SeenBy(OrderViewer viewer) => viewer.SeesAll
        ? this
        : this with { Rejections = Rejections.Where(r => r.ConnectionId == viewer.Connection?.Value).ToArray() };

    /// <summary>The merchant's full view: what the order's events carry as <c>data</c> (<see cref="OrderEventView"/> narrows it per recipient).</summary>
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
        order.Request is { } r ? new FulfillmentRequestResponse(r.IsAccepted ? FulfillmentRequestResponse.Accepted : FulfillmentRequestResponse.Pending, r.RequestedAt, r.AcceptedAt, r.OverdueAt) : null,
        order.Shipment is { } s ? ShipmentResponse.For(s) : null,
        order.Shipments.Select(ShipmentResponse.For).ToArray(),
        order.Holds.Select(HoldResponse.For).ToArray(),
        order.Rejections.Select(x => new RejectionResponse(x.ConnectionId.Value, FulfilmentNames.ToWire(x.Reason), x.Message, x.Lines, x.RejectedAt)).ToArray(),
        order.CancellationRequestedAt,
        order.Version,
        order.CreatedAt,
        order.UpdatedAt);
}
