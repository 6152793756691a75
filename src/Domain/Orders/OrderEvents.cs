using ThreePL.Domain.Common;

namespace ThreePL.Domain.Orders;

/// <summary>Something that happened to an order. Returned by its commands; the app persists them in the outbox.</summary>
/// <param name="OrderId">The order.</param>
/// <param name="Version">The order's version after the change.</param>
/// <param name="Status">The order's status after the change.</param>
/// <param name="ConnectionId">The connection it concerns (for a hand-back, the previous one); null while with the merchant.</param>
/// <param name="OccurredAt">The <c>now</c> the command ran at.</param>
public abstract record OrderEvent(
    OrderId OrderId, long Version, OrderStatus Status, ConnectionId? ConnectionId, DateTimeOffset OccurredAt)
{
    /// <summary>The published event type (<c>order.created</c>, …), or null when the event is internal.</summary>
    public abstract string? Type { get; }
}

/// <summary>The merchant submitted the order (intake). Internal; routing reacts to it.</summary>
/// <param name="OrderId">The order.</param>
/// <param name="Version">Always 1.</param>
/// <param name="Status">Always open.</param>
/// <param name="ConnectionId">Always null.</param>
/// <param name="OccurredAt">When.</param>
/// <param name="MerchantAccountId">The submitting merchant.</param>
/// <param name="ExternalId">The shop's order id.</param>
public sealed record OrderReceived(
    OrderId OrderId, long Version, OrderStatus Status, ConnectionId? ConnectionId, DateTimeOffset OccurredAt,
    AccountId MerchantAccountId, string ExternalId)
    : OrderEvent(OrderId, Version, Status, ConnectionId, OccurredAt)
{
    /// <inheritdoc />
    public override string? Type => null;
}

/// <summary>The order was delegated to a connection; published as <c>order.created</c> to that connection.</summary>
/// <param name="OrderId">The order.</param>
/// <param name="Version">The new version.</param>
/// <param name="Status">Awaiting shipment.</param>
/// <param name="ConnectionId">The connection.</param>
/// <param name="OccurredAt">When.</param>
/// <param name="Delegation">The settings snapshot it was delegated under.</param>
public sealed record OrderDelegated(
    OrderId OrderId, long Version, OrderStatus Status, ConnectionId? ConnectionId, DateTimeOffset OccurredAt,
    Delegation Delegation)
    : OrderEvent(OrderId, Version, Status, ConnectionId, OccurredAt)
{
    /// <inheritdoc />
    public override string Type => "order.created";
}

/// <summary>The 3PL started the order.</summary>
/// <param name="OrderId">The order.</param>
/// <param name="Version">The new version.</param>
/// <param name="Status">In progress.</param>
/// <param name="ConnectionId">The connection.</param>
/// <param name="OccurredAt">When.</param>
public sealed record OrderStarted(
    OrderId OrderId, long Version, OrderStatus Status, ConnectionId? ConnectionId, DateTimeOffset OccurredAt)
    : OrderEvent(OrderId, Version, Status, ConnectionId, OccurredAt)
{
    /// <inheritdoc />
    public override string Type => "order.updated";
}

/// <summary>The merchant cancelled an order that was not started; it is cancelled at once.</summary>
/// <param name="OrderId">The order.</param>
/// <param name="Version">The new version.</param>
/// <param name="Status">Cancelled.</param>
/// <param name="ConnectionId">The connection, if it was delegated.</param>
/// <param name="OccurredAt">When.</param>
public sealed record OrderCancelled(
    OrderId OrderId, long Version, OrderStatus Status, ConnectionId? ConnectionId, DateTimeOffset OccurredAt)
    : OrderEvent(OrderId, Version, Status, ConnectionId, OccurredAt)
{
    /// <inheritdoc />
    public override string Type => "order.updated";
}

/// <summary>The merchant asked to cancel an order in progress; the 3PL must accept or reject.</summary>
/// <param name="OrderId">The order.</param>
/// <param name="Version">The new version.</param>
/// <param name="Status">Cancellation requested.</param>
/// <param name="ConnectionId">The connection.</param>
/// <param name="OccurredAt">When.</param>
public sealed record OrderCancellationRequested(
    OrderId OrderId, long Version, OrderStatus Status, ConnectionId? ConnectionId, DateTimeOffset OccurredAt)
    : OrderEvent(OrderId, Version, Status, ConnectionId, OccurredAt)
{
    /// <inheritdoc />
    public override string Type => "order.updated";
}

/// <summary>The 3PL accepted the cancellation request; the order is cancelled.</summary>
/// <param name="OrderId">The order.</param>
/// <param name="Version">The new version.</param>
/// <param name="Status">Cancelled.</param>
/// <param name="ConnectionId">The connection.</param>
/// <param name="OccurredAt">When.</param>
public sealed record OrderCancellationAccepted(
    OrderId OrderId, long Version, OrderStatus Status, ConnectionId? ConnectionId, DateTimeOffset OccurredAt)
    : OrderEvent(OrderId, Version, Status, ConnectionId, OccurredAt)
{
    /// <inheritdoc />
    public override string Type => "order.updated";
}

/// <summary>The 3PL rejected the cancellation request; the order is in progress again.</summary>
/// <param name="OrderId">The order.</param>
/// <param name="Version">The new version.</param>
/// <param name="Status">In progress.</param>
/// <param name="ConnectionId">The connection.</param>
/// <param name="OccurredAt">When.</param>
public sealed record OrderCancellationRejected(
    OrderId OrderId, long Version, OrderStatus Status, ConnectionId? ConnectionId, DateTimeOffset OccurredAt)
    : OrderEvent(OrderId, Version, Status, ConnectionId, OccurredAt)
{
    /// <inheritdoc />
    public override string Type => "order.updated";
}

/// <summary>The 3PL shipped some or all of the order; the app records one billable usage line per shipment and notifies the merchant.</summary>
/// <param name="OrderId">The order.</param>
/// <param name="Version">The new version.</param>
/// <param name="Status">Shipped or partially shipped.</param>
/// <param name="ConnectionId">The connection.</param>
/// <param name="OccurredAt">When.</param>
/// <param name="Shipment">The new shipment.</param>
/// <param name="OrderFeeBilledTo">Who is billed, from the order's settings snapshot.</param>
public sealed record OrderShipped(
    OrderId OrderId, long Version, OrderStatus Status, ConnectionId? ConnectionId, DateTimeOffset OccurredAt,
    Shipment Shipment, Connections.SettingsOwner OrderFeeBilledTo)
    : OrderEvent(OrderId, Version, Status, ConnectionId, OccurredAt)
{
    /// <inheritdoc />
    public override string Type => "order.shipped";
}

/// <summary>An unstarted order went back to the merchant; <see cref="OrderEvent.ConnectionId"/> is the previous connection.</summary>
/// <param name="OrderId">The order.</param>
/// <param name="Version">The new version.</param>
/// <param name="Status">Open.</param>
/// <param name="ConnectionId">The connection it was taken from.</param>
/// <param name="OccurredAt">When.</param>
public sealed record OrderHandedBack(
    OrderId OrderId, long Version, OrderStatus Status, ConnectionId? ConnectionId, DateTimeOffset OccurredAt)
    : OrderEvent(OrderId, Version, Status, ConnectionId, OccurredAt)
{
    /// <inheritdoc />
    public override string Type => "order.handed_back";
}

/// <summary>The 3PL accepted the fulfilment request explicitly.</summary>
/// <param name="OrderId">The order.</param>
/// <param name="Version">The new version.</param>
/// <param name="Status">The status after the change.</param>
/// <param name="ConnectionId">The connection it concerns, if any.</param>
/// <param name="OccurredAt">When.</param>
public sealed record OrderAccepted(
    OrderId OrderId, long Version, OrderStatus Status, ConnectionId? ConnectionId, DateTimeOffset OccurredAt)
    : OrderEvent(OrderId, Version, Status, ConnectionId, OccurredAt)
{
    /// <inheritdoc />
    public override string Type => "order.accepted";
}

/// <summary>The 3PL rejected the fulfilment request; the order is open again. <see cref="OrderEvent.ConnectionId"/> is the rejecting connection.</summary>
/// <param name="OrderId">The order.</param>
/// <param name="Version">The new version.</param>
/// <param name="Status">The status after the change.</param>
/// <param name="ConnectionId">The connection it concerns, if any.</param>
/// <param name="OccurredAt">When.</param>
/// <param name="Rejection">What the 3PL said.</param>
public sealed record OrderRejected(
    OrderId OrderId, long Version, OrderStatus Status, ConnectionId? ConnectionId, DateTimeOffset OccurredAt,
    Rejection Rejection)
    : OrderEvent(OrderId, Version, Status, ConnectionId, OccurredAt)
{
    /// <inheritdoc />
    public override string Type => "order.rejected";
}

/// <summary>
/// The fulfilment request went unanswered past the connection's <c>acceptWithin</c>; published to both parties.
/// <see cref="OrderEvent.ConnectionId"/> is the overdue connection; status open means the order was handed back to be routed again.
/// </summary>
/// <param name="OrderId">The order.</param>
/// <param name="Version">The new version.</param>
/// <param name="Status">The status after the change.</param>
/// <param name="ConnectionId">The connection it concerns, if any.</param>
/// <param name="OccurredAt">When.</param>
public sealed record OrderRequestOverdue(
    OrderId OrderId, long Version, OrderStatus Status, ConnectionId? ConnectionId, DateTimeOffset OccurredAt)
    : OrderEvent(OrderId, Version, Status, ConnectionId, OccurredAt)
{
    /// <inheritdoc />
    public override string Type => "order.request_overdue";
}

/// <summary>A party put the order on hold.</summary>
/// <param name="OrderId">The order.</param>
/// <param name="Version">The new version.</param>
/// <param name="Status">The status after the change.</param>
/// <param name="ConnectionId">The connection it concerns, if any.</param>
/// <param name="OccurredAt">When.</param>
/// <param name="Hold">The new hold.</param>
public sealed record OrderHeld(
    OrderId OrderId, long Version, OrderStatus Status, ConnectionId? ConnectionId, DateTimeOffset OccurredAt,
    Hold Hold)
    : OrderEvent(OrderId, Version, Status, ConnectionId, OccurredAt)
{
    /// <inheritdoc />
    public override string Type => "order.held";
}

/// <summary>The placing party released a hold.</summary>
/// <param name="OrderId">The order.</param>
/// <param name="Version">The new version.</param>
/// <param name="Status">The status after the change.</param>
/// <param name="ConnectionId">The connection it concerns, if any.</param>
/// <param name="OccurredAt">When.</param>
/// <param name="Hold">The released hold.</param>
public sealed record OrderReleased(
    OrderId OrderId, long Version, OrderStatus Status, ConnectionId? ConnectionId, DateTimeOffset OccurredAt,
    Hold Hold)
    : OrderEvent(OrderId, Version, Status, ConnectionId, OccurredAt)
{
    /// <inheritdoc />
    public override string Type => "order.released";
}
