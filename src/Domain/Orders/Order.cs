using System.Collections.ObjectModel;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;

namespace ThreePL.Domain.Orders;

/// <summary>
/// A merchant's order and the state machine of its fulfilment:
/// <c>open</c> → <c>awaiting_shipment</c> (delegated: a fulfilment request the 3PL accepts or rejects) →
/// <c>in_progress</c> → <c>partially_shipped</c> → <c>shipped</c>, with cancellation (immediate before the 3PL
/// starts, by request after), hand-back of unstarted orders, rejection back to the merchant, holds that block
/// starting and shipping, and a deadline escalation of a request nobody answered. Every command either succeeds,
/// bumps <see cref="Version"/> and returns one event, or fails and changes nothing; the exceptions are a repeated
/// shipment (<see cref="Ship"/>), hold (<see cref="PlaceHold"/>) or release (<see cref="ReleaseHold"/>), which are
/// recognised and return no event.
/// </summary>
/// <remarks>
/// Invariants: an order with a <see cref="Delegation"/> is never open and has a <see cref="Request"/>, one
/// without has neither; one in awaiting_shipment, in_progress, partially_shipped, cancellation_requested or
/// shipped always has one; a cancelled order keeps the delegation it had, so the 3PL still sees it. Shipped
/// quantities never exceed ordered ones and never decrease; shipped means every unit shipped, partially_shipped
/// means some. Who may call which command (merchant or 3PL) is checked by the app, which knows the caller's
/// account; holds carry the side that placed them because only that side releases them.
/// </remarks>
public sealed class Order
{
    /// <summary>Most standing holds on one order.</summary>
    public const int MaxHolds = 10;

    /// <summary>Most shipments of one order.</summary>
    public const int MaxShipments = 50;

    /// <summary>Most rejections kept; older ones are dropped (routing also skips connections it was handed back from).</summary>
    public const int MaxRejections = 10;

    /// <summary>Most released holds remembered, so a retried release is recognised; older ones are forgotten.</summary>
    public const int MaxReleasedHolds = 10;

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
        Request = state.Request;
        Shipments = state.Shipments;
        Holds = state.Holds;
        ReleasedHolds = state.ReleasedHolds;
        Rejections = state.Rejections;
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

    /// <summary>The fulfilment request of the current delegation; null exactly when <see cref="Delegation"/> is.</summary>
    public FulfilmentRequest? Request { get; private set; }

    /// <summary>The connection it is delegated to, from <see cref="Delegation"/>.</summary>
    public ConnectionId? ConnectionId => Delegation?.ConnectionId;

    /// <summary>Every shipment, oldest first.</summary>
    public IReadOnlyList<Shipment> Shipments { get; private set; }

    /// <summary>The latest shipment, or null before the first.</summary>
    public Shipment? Shipment => Shipments.Count == 0 ? null : Shipments[^1];

    /// <summary>The standing holds, oldest first.</summary>
    public IReadOnlyList<Hold> Holds { get; private set; }

    /// <summary>The most recent <see cref="MaxReleasedHolds"/> released holds, oldest first: only what a retried release needs.</summary>
    public IReadOnlyList<ReleasedHold> ReleasedHolds { get; private set; }

    /// <summary>The most recent <see cref="MaxRejections"/> rejections, oldest first.</summary>
    public IReadOnlyList<Rejection> Rejections { get; private set; }

    /// <summary>When the pending cancellation was requested (kept if accepted, cleared if rejected).</summary>
    public DateTimeOffset? CancellationRequestedAt { get; private set; }

    /// <summary>1 at intake, +1 on every successful command.</summary>
    public long Version { get; private set; }

    /// <summary>When it was received.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>When the last successful command ran.</summary>
    public DateTimeOffset UpdatedAt { get; private set; }

    /// <summary>Units of <paramref name="sku"/> shipped so far (0 for a SKU not on the order).</summary>
    public int QuantityShipped(string sku) => Shipments.Sum(s => s.Lines.Where(l => l.Sku == sku).Sum(l => l.Quantity));

    /// <summary>Units of <paramref name="sku"/> ordered and not yet shipped (0 for a SKU not on the order).</summary>
    public int QuantityLeft(string sku) => (Lines.FirstOrDefault(l => l.Sku == sku)?.Quantity ?? 0) - QuantityShipped(sku);

    /// <summary>Creates an open order from a validated draft.</summary>
    /// <returns>The order and its <see cref="OrderReceived"/> event.</returns>
    public static (Order Order, OrderReceived Received) Create(OrderId id, AccountId merchant, OrderDraft draft, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(draft);
        var order = Restore(new OrderState(id, merchant, draft.ExternalId, OrderStatus.Open, draft.Lines, draft.ShipTo,
            draft.ShippingService, draft.Notes, null, null, 1, now, now));
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
        Check((state.Delegation is null) == (state.Request is null), "the fulfilment request does not fit the delegation");
        Check(state.Shipments is not null && state.Holds is not null && state.ReleasedHolds is not null && state.Rejections is not null, "a list is missing");
        Check(state.Shipments!.All(s => s.Lines is { Count: > 0 } && s.Lines.All(l => l.Quantity > 0 && state.Lines.Any(o => o.Sku == l.Sku))),
            "a shipment names no units or a SKU not on the order");
        var shipped = state.Lines.Select(l => (Ordered: l.Quantity, Shipped: state.Shipments!.Sum(s => s.Lines.Where(x => x.Sku == l.Sku).Sum(x => x.Quantity)))).ToList();
        Check(shipped.All(l => l.Shipped <= l.Ordered), "more units shipped than ordered");
        var all = shipped.All(l => l.Shipped == l.Ordered);
        var any = state.Shipments!.Count > 0;
        Check(state.Status switch
        {
            OrderStatus.Shipped => all,
            OrderStatus.PartiallyShipped => any && !all,
            OrderStatus.CancellationRequested or OrderStatus.Cancelled => !all,
            _ => !any,
        }, "the shipments do not fit the status");
        Check(state.Status switch
        {
            OrderStatus.CancellationRequested => state.CancellationRequestedAt is not null,
            OrderStatus.Cancelled => true,
            _ => state.CancellationRequestedAt is null,
        }, "cancellationRequestedAt does not fit the status");
        Check(state.Holds!.Select(h => h.Id).Concat(state.ReleasedHolds!.Select(h => h.Id)).Distinct(StringComparer.Ordinal).Count()
            == state.Holds!.Count + state.ReleasedHolds!.Count, "two holds share an id");
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
        Delegation, CancellationRequestedAt, Version, CreatedAt, UpdatedAt)
    {
        Request = Request,
        Shipments = Shipments,
        Holds = Holds,
        ReleasedHolds = ReleasedHolds,
        Rejections = Rejections,
    };

    /// <summary>Routing or the merchant delegates an open order to a connection → <c>awaiting_shipment</c>, a pending request.</summary>
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
        Request = new FulfilmentRequest(now, null, null);
        Move(OrderStatus.AwaitingShipment, now);
        return Outcome<OrderEvent>.Success(new OrderDelegated(Id, Version, Status, delegation.ConnectionId, now, delegation));
    }

    /// <summary>The 3PL accepts the pending fulfilment request; the order stays <c>awaiting_shipment</c>.</summary>
    public Outcome<OrderEvent> Accept(DateTimeOffset now)
    {
        if (Status != OrderStatus.AwaitingShipment)
        {
            return InvalidTransition("accepted");
        }
        if (Request!.IsAccepted)
        {
            return InvalidTransition("accepted again (the request was accepted before)");
        }
        Request = Request with { AcceptedAt = now };
        Move(Status, now);
        return Outcome<OrderEvent>.Success(new OrderAccepted(Id, Version, Status, ConnectionId, now));
    }

    /// <summary>
    /// The 3PL rejects the request of an order it has not started (pending or accepted) → <c>open</c> with the
    /// merchant, the rejection recorded. The 3PL's holds go with it (it can no longer release them); the merchant's
    /// stay. Input is checked first (<c>validation_failed</c>, see <see cref="Rejection.Validate"/>), then the status.
    /// </summary>
    public Outcome<OrderEvent> Reject(RejectionReason reason, string? message, IReadOnlyList<RejectionLine>? lines, DateTimeOffset now)
    {
        if (!Enum.IsDefined(reason))
        {
            return Outcome<OrderEvent>.Failure(OrderErrors.ValidationFailed, "reason: Must be a defined rejection reason.");
        }
        var errors = Rejection.Validate(this, message, lines);
        if (errors.Count > 0)
        {
            return ValidationFailed("The rejection is invalid: ", errors);
        }
        if (Status != OrderStatus.AwaitingShipment)
        {
            return InvalidTransition("rejected");
        }
        var rejection = new Rejection(ConnectionId!.Value, reason, string.IsNullOrEmpty(message) ? null : message, lines?.ToArray() ?? [], now);
        Rejections = Rejections.Append(rejection).TakeLast(MaxRejections).ToArray();
        LeaveThreePl();
        Move(OrderStatus.Open, now);
        return Outcome<OrderEvent>.Success(new OrderRejected(Id, Version, Status, rejection.ConnectionId, now, rejection));
    }

    /// <summary>
    /// The request of the delegation made at <paramref name="requestedAt"/> to <paramref name="connection"/> went
    /// unanswered past its deadline: recorded once, while it is still that delegation's pending request. With
    /// <paramref name="handBack"/> (the merchant's routing has another connection for it) the order also goes back
    /// to the merchant (<c>open</c>, like <see cref="HandBack"/>) in the same change, to be routed again.
    /// </summary>
    public Outcome<OrderEvent> MarkRequestOverdue(ConnectionId connection, DateTimeOffset requestedAt, bool handBack, DateTimeOffset now)
    {
        if (Status != OrderStatus.AwaitingShipment || ConnectionId != connection || Request!.RequestedAt != requestedAt)
        {
            return InvalidTransition("escalated as overdue (it is not that delegation's request any more)");
        }
        if (Request.IsAccepted || Request.OverdueAt is not null)
        {
            return InvalidTransition("escalated as overdue (the request was accepted or escalated before)");
        }
        Request = Request with { OverdueAt = now };
        if (handBack)
        {
            LeaveThreePl();
        }
        Move(handBack ? OrderStatus.Open : Status, now);
        return Outcome<OrderEvent>.Success(new OrderRequestOverdue(Id, Version, Status, connection, now));
    }

    /// <summary>The 3PL starts an order awaiting shipment → <c>in_progress</c>, accepting a pending request.</summary>
    public Outcome<OrderEvent> Start(DateTimeOffset now)
    {
        if (Status != OrderStatus.AwaitingShipment)
        {
            return InvalidTransition("started");
        }
        if (Holds.Count > 0)
        {
            return OnHold("started");
        }
        AcceptImplicitly(now);
        Move(OrderStatus.InProgress, now);
        return Outcome<OrderEvent>.Success(new OrderStarted(Id, Version, Status, ConnectionId, now));
    }

    /// <summary>
    /// The 3PL ships some or all units left: awaiting shipment, in progress or partially shipped →
    /// <c>shipped</c> when every unit has shipped, else <c>partially_shipped</c>. Null <paramref name="lines"/> ship
    /// everything left. A pending request is accepted. A shipment with the tracking number of an existing one and
    /// the same lines (or no lines) is a repeat of it: success with no event and nothing changed, so a retried
    /// request ships once; the same tracking number with other lines is <c>tracking_number_in_use</c>. Input is
    /// checked first (<c>validation_failed</c>), then repeats, then the status, then holds.
    /// </summary>
    /// <param name="shipmentId">The id a new shipment gets (<c>shp_…</c>); a malformed one is a bug and throws.</param>
    /// <param name="carrier">The carrier.</param>
    /// <param name="service">The service.</param>
    /// <param name="trackingNumber">The tracking number.</param>
    /// <param name="lines">The units shipped, or null for everything left.</param>
    /// <param name="now">The current time.</param>
    public Outcome<OrderEvent> Ship(string shipmentId, string carrier, string service, string trackingNumber, IReadOnlyList<ShipmentLine>? lines, DateTimeOffset now)
    {
        if (!Identifier.IsValid(Orders.Shipment.IdPrefix, shipmentId))
        {
            throw new ArgumentException($"Malformed shipment id '{shipmentId}'.", nameof(shipmentId));
        }
        var errors = Orders.Shipment.Validate(carrier, service, trackingNumber);
        if (errors.Count > 0)
        {
            return ValidationFailed("The shipment is invalid: ", errors);
        }
        if (Shipments.FirstOrDefault(s => s.TrackingNumber == trackingNumber) is { } existing)
        {
            return lines is null || SameLines(existing.Lines, lines)
                ? Outcome<OrderEvent>.Success()
                : Outcome<OrderEvent>.Failure(FulfilmentErrors.TrackingNumberInUse,
                    $"Shipment {existing.Id} already has tracking number '{trackingNumber}' with other lines.");
        }
        if (Status is not (OrderStatus.AwaitingShipment or OrderStatus.InProgress or OrderStatus.PartiallyShipped))
        {
            return InvalidTransition("shipped");
        }
        if (Holds.Count > 0)
        {
            return OnHold("shipped");
        }
        var lineErrors = Orders.Shipment.ValidateLines(this, lines);
        if (lineErrors.Count > 0)
        {
            return ValidationFailed("The shipment is invalid: ", lineErrors);
        }
        if (Shipments.Count >= MaxShipments)
        {
            return Outcome<OrderEvent>.Failure(FulfilmentErrors.TooManyShipments, $"An order has at most {MaxShipments} shipments; ship the rest in one.");
        }
        var units = lines?.ToArray()
            ?? Lines.Select(l => new ShipmentLine(l.Sku, QuantityLeft(l.Sku))).Where(l => l.Quantity > 0).ToArray();
        var shipment = new Shipment(shipmentId, carrier, service, trackingNumber, units, now);
        Shipments = Shipments.Append(shipment).ToArray();
        AcceptImplicitly(now);
        Move(Lines.All(l => QuantityLeft(l.Sku) == 0) ? OrderStatus.Shipped : OrderStatus.PartiallyShipped, now);
        return Outcome<OrderEvent>.Success(
            new OrderShipped(Id, Version, Status, ConnectionId, now, shipment, Delegation!.OrderFeeBilledTo));
    }

    /// <summary>
    /// The merchant cancels: open or awaiting shipment → <c>cancelled</c> at once; in progress or partially
    /// shipped → <c>cancellation_requested</c> for the 3PL to decide (after a partial shipment, for the rest).
    /// Holds do not matter.
    /// </summary>
    public Outcome<OrderEvent> Cancel(DateTimeOffset now)
    {
        switch (Status)
        {
            case OrderStatus.Open or OrderStatus.AwaitingShipment:
                Move(OrderStatus.Cancelled, now);
                return Outcome<OrderEvent>.Success(new OrderCancelled(Id, Version, Status, ConnectionId, now));
            case OrderStatus.InProgress or OrderStatus.PartiallyShipped:
                CancellationRequestedAt = now;
                Move(OrderStatus.CancellationRequested, now);
                return Outcome<OrderEvent>.Success(new OrderCancellationRequested(Id, Version, Status, ConnectionId, now));
            default:
                return InvalidTransition("cancelled");
        }
    }

    /// <summary>The 3PL accepts a cancellation request → <c>cancelled</c> (what shipped stays shipped).</summary>
    public Outcome<OrderEvent> AcceptCancellation(DateTimeOffset now)
    {
        if (Status != OrderStatus.CancellationRequested)
        {
            return InvalidTransition("cancelled by accepting a cancellation request", noRequest: true);
        }
        Move(OrderStatus.Cancelled, now);
        return Outcome<OrderEvent>.Success(new OrderCancellationAccepted(Id, Version, Status, ConnectionId, now));
    }

    /// <summary>The 3PL rejects a cancellation request → back to <c>in_progress</c>, or <c>partially_shipped</c> if anything shipped.</summary>
    public Outcome<OrderEvent> RejectCancellation(DateTimeOffset now)
    {
        if (Status != OrderStatus.CancellationRequested)
        {
            return InvalidTransition("kept by rejecting a cancellation request", noRequest: true);
        }
        CancellationRequestedAt = null;
        Move(Shipments.Count > 0 ? OrderStatus.PartiallyShipped : OrderStatus.InProgress, now);
        return Outcome<OrderEvent>.Success(new OrderCancellationRejected(Id, Version, Status, ConnectionId, now));
    }

    /// <summary>
    /// An unstarted delegated order goes back to the merchant (the connection was deactivated or disconnected,
    /// or its request went unanswered): awaiting shipment → <c>open</c>, delegation and the 3PL's holds cleared.
    /// The event names the previous connection.
    /// </summary>
    public Outcome<OrderEvent> HandBack(DateTimeOffset now)
    {
        if (Status != OrderStatus.AwaitingShipment)
        {
            return InvalidTransition("handed back");
        }
        var previous = ConnectionId;
        LeaveThreePl();
        Move(OrderStatus.Open, now);
        return Outcome<OrderEvent>.Success(new OrderHandedBack(Id, Version, Status, previous, now));
    }

    /// <summary>
    /// <paramref name="party"/> puts a non-terminal order on hold; while any hold stands the order cannot be
    /// started or shipped. At most <see cref="MaxHolds"/> stand at once. A hold like a standing one (see
    /// <see cref="StandingHold"/>) is a repeat of it: success with no event and nothing changed, so a retried request
    /// holds once. Input is checked first (<c>validation_failed</c>), then repeats, then the status, then the limit.
    /// </summary>
    /// <param name="holdId">The new hold's id (<c>hld_…</c>); a malformed one is a bug and throws.</param>
    /// <param name="reason">Why.</param>
    /// <param name="note">Free text, at most <see cref="Hold.NoteMaxLength"/> characters.</param>
    /// <param name="party">Who places it.</param>
    /// <param name="now">The current time.</param>
    public Outcome<OrderEvent> PlaceHold(string holdId, HoldReason reason, string? note, Party party, DateTimeOffset now)
    {
        if (!Identifier.IsValid(Hold.IdPrefix, holdId) || !Enum.IsDefined(party))
        {
            throw new ArgumentException($"Malformed hold id '{holdId}' or party {party}.", nameof(holdId));
        }
        if (!Enum.IsDefined(reason))
        {
            return Outcome<OrderEvent>.Failure(OrderErrors.ValidationFailed, "reason: Must be a defined hold reason.");
        }
        var errors = Hold.Validate(note);
        if (errors.Count > 0)
        {
            return ValidationFailed("The hold is invalid: ", errors);
        }
        if (StandingHold(reason, note, party) is not null)
        {
            return Outcome<OrderEvent>.Success();
        }
        if (Status.IsTerminal())
        {
            return InvalidTransition("put on hold");
        }
        if (Holds.Count >= MaxHolds)
        {
            return Outcome<OrderEvent>.Failure(FulfilmentErrors.TooManyHolds, $"At most {MaxHolds} holds stand at once; release one first.");
        }
        var hold = new Hold(holdId, reason, string.IsNullOrEmpty(note) ? null : note, party, now);
        Holds = Holds.Append(hold).ToArray();
        Move(Status, now);
        return Outcome<OrderEvent>.Success(new OrderHeld(Id, Version, Status, ConnectionId, now, hold));
    }

    /// <summary>
    /// The standing hold that a hold by <paramref name="party"/> with this reason and note would repeat, or null. An
    /// absent note and an empty one are the same. Two such holds would block the order for the same reason on the same
    /// side's word, so the second is taken to be a retry of the first rather than a new hold.
    /// </summary>
    public Hold? StandingHold(HoldReason reason, string? note, Party party)
    {
        var normalised = string.IsNullOrEmpty(note) ? null : note;
        return Holds.FirstOrDefault(h => h.PlacedBy == party && h.Reason == reason && h.Note == normalised);
    }

    /// <summary>
    /// The side that placed a standing hold releases it (in any status). Releasing one of the last
    /// <see cref="MaxReleasedHolds"/> released holds again is a repeat: success with no event and nothing changed, so a
    /// retried request releases once. Any other id is <c>hold_not_found</c>; the other side gets
    /// <c>hold_placed_by_other_party</c> for a standing or a released hold alike.
    /// </summary>
    public Outcome<OrderEvent> ReleaseHold(string holdId, Party party, DateTimeOffset now)
    {
        var hold = Holds.FirstOrDefault(h => h.Id == holdId);
        var placedBy = hold?.PlacedBy ?? ReleasedHolds.FirstOrDefault(h => h.Id == holdId)?.PlacedBy;
        if (placedBy is null)
        {
            return Outcome<OrderEvent>.Failure(FulfilmentErrors.HoldNotFound, $"The order has no standing or recently released hold '{holdId}'.");
        }
        if (placedBy != party)
        {
            return Outcome<OrderEvent>.Failure(FulfilmentErrors.HoldPlacedByOtherParty,
                $"Hold {holdId} was placed by the {PartyNames.ToWire(placedBy.Value)}; only that side releases it.");
        }
        if (hold is null)
        {
            return Outcome<OrderEvent>.Success();
        }
        Holds = Holds.Where(h => h.Id != holdId).ToArray();
        ReleasedHolds = ReleasedHolds.Append(new ReleasedHold(hold.Id, hold.PlacedBy)).TakeLast(MaxReleasedHolds).ToArray();
        Move(Status, now);
        return Outcome<OrderEvent>.Success(new OrderReleased(Id, Version, Status, ConnectionId, now, hold));
    }

    private static bool SameLines(IReadOnlyList<ShipmentLine> a, IReadOnlyList<ShipmentLine> b) =>
        a.Count == b.Count && a.All(x => b.Any(y => y.Sku == x.Sku && y.Quantity == x.Quantity));

    private void AcceptImplicitly(DateTimeOffset now)
    {
        if (Request is { IsAccepted: false })
        {
            Request = Request with { AcceptedAt = now };
        }
    }

    private void LeaveThreePl()
    {
        Delegation = null;
        Request = null;
        if (Holds.Any(h => h.PlacedBy == Party.ThreePl))
        {
            Holds = Holds.Where(h => h.PlacedBy != Party.ThreePl).ToArray();
        }
    }

    private Outcome<OrderEvent> OnHold(string verb) =>
        Outcome<OrderEvent>.Failure(FulfilmentErrors.OnHold,
            $"The order is on hold ({string.Join(", ", Holds.Select(h => $"{h.Id}: {FulfilmentNames.ToWire(h.Reason)}"))}); it cannot be {verb} until every hold is released.");

    private static Outcome<OrderEvent> ValidationFailed(string prefix, IReadOnlyDictionary<string, string[]> errors) =>
        Outcome<OrderEvent>.Failure(OrderErrors.ValidationFailed, prefix + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")));

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
    DateTimeOffset? CancellationRequestedAt,
    long Version,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    /// <summary>The fulfilment request; set exactly when <see cref="Delegation"/> is.</summary>
    public FulfilmentRequest? Request { get; init; }

    /// <summary>Every shipment, oldest first.</summary>
    public IReadOnlyList<Shipment> Shipments { get; init; } = [];

    /// <summary>The standing holds.</summary>
    public IReadOnlyList<Hold> Holds { get; init; } = [];

    /// <summary>The remembered released holds, oldest first.</summary>
    public IReadOnlyList<ReleasedHold> ReleasedHolds { get; init; } = [];

    /// <summary>The kept rejections, oldest first.</summary>
    public IReadOnlyList<Rejection> Rejections { get; init; } = [];
}
