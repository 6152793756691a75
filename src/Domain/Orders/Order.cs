using System.Collections.ObjectModel;
using ThreePL.Domain.Common;

namespace ThreePL.Domain.Orders;

/// <summary>
/// A merchant's order and the state machine of its fulfilment:
/// <c>open</c> → <c>awaiting_shipment</c> (delegated) → <c>in_progress</c> → <c>shipped</c>, with cancellation
/// (immediate before the 3PL starts, by request after) and hand-back of unstarted orders. Every command either
/// succeeds, bumps <see cref="Version"/> and returns one event, or fails and changes nothing.
/// </summary>
/// <remarks>
/// Invariants: an order with a <see cref="Delegation"/> is never open; one in awaiting_shipment, in_progress,
/// cancellation_requested or shipped always has one; a cancelled order keeps the delegation it had, so the 3PL
/// still sees it. <see cref="Shipment"/> is set exactly when shipped. Who may call which command (merchant or
/// 3PL) is checked by the app, which knows the caller's account.
/// </remarks>
public sealed class Order
{
    private Order(OrderState state, ReadOnlyCollection<OrderLine> lines)
    {
        Id = state.Id;
        MerchantAccountId = state.MerchantAccountId;
        ExternalId = state.ExternalId;
        Status = state.Status;
        Lines = lines;
        ShipTo = state.ShipTo;
        ShippingService = state.ShippingService;
        Notes = state.Notes;
        Delegation = state.Delegation;
        Shipment = state.Shipment;
        CancellationRequestedAt = state.CancellationRequestedAt;
        Version = state.Version;
        CreatedAt = state.CreatedAt;
        UpdatedAt = state.UpdatedAt;
    }

    /// <summary>The order id.</summary>
    public OrderId Id { get; }

    /// <summary>The merchant that owns the order.</summary>
    public AccountId MerchantAccountId { get; }

    /// <summary>The shop's order id.</summary>
    public string ExternalId { get; }

    /// <summary>The current status; changed only by the transition methods.</summary>
    public OrderStatus Status { get; private set; }

    /// <summary>The lines (read-only).</summary>
    public IReadOnlyList<OrderLine> Lines { get; }

    /// <summary>Where to ship.</summary>
    public Address ShipTo { get; }

    /// <summary>The requested shipping service.</summary>
    public string? ShippingService { get; }

    /// <summary>The merchant's notes.</summary>
    public string? Notes { get; }

    /// <summary>The connection and settings snapshot it is delegated under; null while with the merchant.</summary>
    public Delegation? Delegation { get; private set; }

    /// <summary>The connection it is delegated to, from <see cref="Delegation"/>.</summary>
    public ConnectionId? ConnectionId => Delegation?.ConnectionId;

    /// <summary>How it was shipped; set exactly when shipped.</summary>
    public Shipment? Shipment { get; private set; }

    /// <summary>When the pending cancellation was requested (kept if accepted, cleared if rejected).</summary>
    public DateTimeOffset? CancellationRequestedAt { get; private set; }

    /// <summary>1 at intake, +1 on every successful command.</summary>
    public long Version { get; private set; }

    /// <summary>When it was received.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>When the last successful command ran.</summary>
    public DateTimeOffset UpdatedAt { get; private set; }

    /// <summary>Creates an open order from a validated draft.</summary>
    /// <returns>The order and its <see cref="OrderReceived"/> event.</returns>
    public static (Order Order, OrderReceived Received) Create(OrderId id, AccountId merchant, OrderDraft draft, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(draft);
        var order = Restore(new OrderState(id, merchant, draft.ExternalId, OrderStatus.Open, draft.Lines, draft.ShipTo,
            draft.ShippingService, draft.Notes, null, null, null, 1, now, now));
        return (order, new OrderReceived(id, 1, OrderStatus.Open, null, now, merchant, draft.ExternalId));
    }

    /// <summary>
    /// Rebuilds an order from stored state; throws <see cref="InvalidOperationException"/> on an impossible state.
    /// Only structural invariants are checked (not intake lengths), so tightening intake rules later never makes a
    /// stored order unreadable.
    /// </summary>
    public static Order Restore(OrderState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        Check(state.Id.Value is not null && state.MerchantAccountId.Value is not null, "an id is missing");
        Check(!string.IsNullOrEmpty(state.ExternalId), "the external id is missing");
        Check(Enum.IsDefined(state.Status), "the status is undefined");
        Check(state.Lines is { Count: > 0 } && state.Lines.All(l => l is { Quantity: > 0 } && !string.IsNullOrEmpty(l.Sku)),
            "the lines are missing or malformed");
        Check(state.ShipTo is not null, "the address is missing");
        Check(state.Version >= 1, "the version is below 1");
        Check(state.Status == OrderStatus.Open ? state.Delegation is null
            : !state.Status.RequiresDelegation() || state.Delegation is not null, "the delegation does not fit the status");
        Check((state.Status == OrderStatus.Shipped) == (state.Shipment is not null), "the shipment does not fit the status");
        Check(state.Status switch
        {
            OrderStatus.CancellationRequested => state.CancellationRequestedAt is not null,
            OrderStatus.Cancelled => true,
            _ => state.CancellationRequestedAt is null,
        }, "cancellationRequestedAt does not fit the status");
        if (state.Delegation is { } delegation)
        {
            try
            {
                delegation.EnsureValid();
            }
            catch (ArgumentException ex)
            {
                throw new InvalidOperationException($"Stored order {state.Id} is impossible: {ex.Message}", ex);
            }
        }
        return new Order(state, state.Lines.ToArray().AsReadOnly());

        void Check(bool condition, string problem)
        {
            if (!condition)
            {
                throw new InvalidOperationException($"Stored order {state.Id} is impossible: {problem}.");
            }
        }
    }

    /// <summary>A snapshot of every field, for persistence.</summary>
    public OrderState ToState() => new(Id, MerchantAccountId, ExternalId, Status, Lines, ShipTo, ShippingService, Notes,
        Delegation, Shipment, CancellationRequestedAt, Version, CreatedAt, UpdatedAt);

    /// <summary>Routing or the merchant delegates an open order to a connection → <c>awaiting_shipment</c>.</summary>
    /// <param name="delegation">The connection and settings snapshot; an impossible one is a bug and throws.</param>
    /// <param name="now">The current time.</param>
    public Outcome<OrderEvent> Delegate(Delegation delegation, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(delegation);
        delegation.EnsureValid();
        if (Status != OrderStatus.Open)
        {
            return InvalidTransition("delegated");
        }
        Delegation = delegation;
        Move(OrderStatus.AwaitingShipment, now);
        return Outcome<OrderEvent>.Success(new OrderDelegated(Id, Version, Status, delegation.ConnectionId, now, delegation));
    }

    /// <summary>The 3PL starts an order awaiting shipment → <c>in_progress</c>.</summary>
    public Outcome<OrderEvent> Start(DateTimeOffset now)
    {
        if (Status != OrderStatus.AwaitingShipment)
        {
            return InvalidTransition("started");
        }
        Move(OrderStatus.InProgress, now);
        return Outcome<OrderEvent>.Success(new OrderStarted(Id, Version, Status, ConnectionId, now));
    }

    /// <summary>
    /// The 3PL ships an order awaiting shipment or in progress → <c>shipped</c>. Input is checked first
    /// (<c>validation_failed</c>; <see cref="Orders.Shipment.Validate"/> gives the field errors), then the status.
    /// </summary>
    public Outcome<OrderEvent> Ship(string carrier, string service, string trackingNumber, DateTimeOffset now)
    {
        var errors = Orders.Shipment.Validate(carrier, service, trackingNumber);
        if (errors.Count > 0)
        {
            return Outcome<OrderEvent>.Failure(OrderErrors.ValidationFailed,
                "The shipment is invalid: " + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")));
        }
        if (Status is not (OrderStatus.AwaitingShipment or OrderStatus.InProgress))
        {
            return InvalidTransition("shipped");
        }
        var shipment = new Shipment(carrier, service, trackingNumber, now);
        Shipment = shipment;
        Move(OrderStatus.Shipped, now);
        return Outcome<OrderEvent>.Success(
            new OrderShipped(Id, Version, Status, ConnectionId, now, shipment, Delegation!.OrderFeeBilledTo));
    }

    /// <summary>
    /// The merchant cancels: open or awaiting shipment → <c>cancelled</c> at once; in progress →
    /// <c>cancellation_requested</c> for the 3PL to decide.
    /// </summary>
    public Outcome<OrderEvent> Cancel(DateTimeOffset now)
    {
        switch (Status)
        {
            case OrderStatus.Open or OrderStatus.AwaitingShipment:
                Move(OrderStatus.Cancelled, now);
                return Outcome<OrderEvent>.Success(new OrderCancelled(Id, Version, Status, ConnectionId, now));
            case OrderStatus.InProgress:
                CancellationRequestedAt = now;
                Move(OrderStatus.CancellationRequested, now);
                return Outcome<OrderEvent>.Success(new OrderCancellationRequested(Id, Version, Status, ConnectionId, now));
            default:
                return InvalidTransition("cancelled");
        }
    }

    /// <summary>The 3PL accepts a cancellation request → <c>cancelled</c>.</summary>
    public Outcome<OrderEvent> AcceptCancellation(DateTimeOffset now)
    {
        if (Status != OrderStatus.CancellationRequested)
        {
            return InvalidTransition("cancelled by accepting a cancellation request", noRequest: true);
        }
        Move(OrderStatus.Cancelled, now);
        return Outcome<OrderEvent>.Success(new OrderCancellationAccepted(Id, Version, Status, ConnectionId, now));
    }

    /// <summary>The 3PL rejects a cancellation request → back to <c>in_progress</c>.</summary>
    public Outcome<OrderEvent> RejectCancellation(DateTimeOffset now)
    {
        if (Status != OrderStatus.CancellationRequested)
        {
            return InvalidTransition("kept by rejecting a cancellation request", noRequest: true);
        }
        CancellationRequestedAt = null;
        Move(OrderStatus.InProgress, now);
        return Outcome<OrderEvent>.Success(new OrderCancellationRejected(Id, Version, Status, ConnectionId, now));
    }

    /// <summary>
    /// An unstarted delegated order goes back to the merchant (the connection was deactivated or disconnected):
    /// awaiting shipment → <c>open</c>, delegation cleared. The event names the previous connection.
    /// </summary>
    public Outcome<OrderEvent> HandBack(DateTimeOffset now)
    {
        if (Status != OrderStatus.AwaitingShipment)
        {
            return InvalidTransition("handed back");
        }
        var previous = ConnectionId;
        Delegation = null;
        Move(OrderStatus.Open, now);
        return Outcome<OrderEvent>.Success(new OrderHandedBack(Id, Version, Status, previous, now));
    }

    private Outcome<OrderEvent> InvalidTransition(string verb, bool noRequest = false) =>
        Outcome<OrderEvent>.Failure(OrderErrors.InvalidTransition, noRequest
            ? $"The order is {OrderStatusNames.ToWire(Status)}; there is no cancellation request, so it cannot be {verb}."
            : $"The order is {OrderStatusNames.ToWire(Status)}; it cannot be {verb}.");

    private void Move(OrderStatus status, DateTimeOffset now)
    {
        Status = status;
        UpdatedAt = now;
        Version++;
    }
}

/// <summary>Every field of an <see cref="Order"/>, for persistence; see <see cref="Order.Restore"/>.</summary>
/// <param name="Id">The order id.</param>
/// <param name="MerchantAccountId">The owning merchant.</param>
/// <param name="ExternalId">The shop's order id.</param>
/// <param name="Status">The status.</param>
/// <param name="Lines">The lines.</param>
/// <param name="ShipTo">The address.</param>
/// <param name="ShippingService">The requested shipping service.</param>
/// <param name="Notes">The merchant's notes.</param>
/// <param name="Delegation">The delegation, if delegated.</param>
/// <param name="Shipment">The shipment, if shipped.</param>
/// <param name="CancellationRequestedAt">When cancellation was requested.</param>
/// <param name="Version">The version.</param>
/// <param name="CreatedAt">When received.</param>
/// <param name="UpdatedAt">When last changed.</param>
public sealed record OrderState(
    OrderId Id,
    AccountId MerchantAccountId,
    string ExternalId,
    OrderStatus Status,
    IReadOnlyList<OrderLine> Lines,
    Address ShipTo,
    string? ShippingService,
    string? Notes,
    Delegation? Delegation,
    Shipment? Shipment,
    DateTimeOffset? CancellationRequestedAt,
    long Version,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);
