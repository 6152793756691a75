using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Domain.Orders;
using static ThreePL.Domain.Tests.Orders.OrderFixture;

namespace ThreePL.Domain.Tests.Orders;

public class FulfilmentProtocolTests
{
    private static readonly DateTimeOffset Later = T0.AddDays(1);

    [Fact]
    public void Delegation_makes_a_pending_request_that_accept_accepts_once()
    {
        var order = InStatus(OrderStatus.AwaitingShipment);
        Assert.NotNull(order.Request);
        Assert.False(order.Request.IsAccepted);

        Assert.True(order.Accept(Later).Succeeded);

        Assert.Equal(Later, order.Request!.AcceptedAt);
        Assert.Equal(OrderStatus.AwaitingShipment, order.Status);
        var again = order.Accept(Later.AddMinutes(1));
        Assert.Equal(OrderErrors.InvalidTransition, again.Error!.Code);
        Assert.Equal(Later, order.Request.AcceptedAt);
    }

    [Theory]
    [InlineData(OrderCommand.Start)]
    [InlineData(OrderCommand.Ship)]
    [InlineData(OrderCommand.ShipPartial)]
    public void Start_and_ship_accept_a_pending_request_implicitly(OrderCommand command)
    {
        var order = InStatus(OrderStatus.AwaitingShipment);

        Assert.True(Run(order, command, Later).Succeeded);

        Assert.Equal(Later, order.Request!.AcceptedAt);
    }

    [Fact]
    public void Reject_hands_the_order_back_and_records_the_rejection()
    {
        var order = InStatus(OrderStatus.AwaitingShipment);
        var connection = order.ConnectionId!.Value;
        Assert.True(order.PlaceHold(HoldId(), HoldReason.AwaitingPayment, null, Party.Merchant, Later).Succeeded);
        Assert.True(order.PlaceHold(HoldId(), HoldReason.InventoryOutOfStock, null, Party.ThreePl, Later).Succeeded);

        var outcome = order.Reject(RejectionReason.IncorrectAddress, "No such street", [new RejectionLine("SKU-1", "fine"), new RejectionLine("SKU-2", null)], Later);

        var rejected = Assert.IsType<OrderRejected>(Assert.Single(outcome.Events));
        Assert.Equal(OrderStatus.Open, order.Status);
        Assert.Null(order.Delegation);
        Assert.Null(order.Request);
        var rejection = Assert.Single(order.Rejections);
        Assert.Equal(rejection, rejected.Rejection);
        Assert.Equal((connection, RejectionReason.IncorrectAddress, "No such street", Later), (rejection.ConnectionId, rejection.Reason, rejection.Message, rejection.RejectedAt));
        Assert.Equal(2, rejection.Lines.Count);
        Assert.Equal(Party.Merchant, Assert.Single(order.Holds).PlacedBy);
        Assert.True(order.Delegate(Delegation(), Later.AddHours(1)).Succeeded);
        Assert.Single(order.Rejections);
    }

    [Fact]
    public void Reject_is_allowed_after_an_explicit_accept_but_not_after_start()
    {
        var accepted = InStatus(OrderStatus.AwaitingShipment);
        Assert.True(accepted.Accept(Later).Succeeded);
        Assert.True(accepted.Reject(RejectionReason.Other, null, null, Later).Succeeded);

        var started = InStatus(OrderStatus.InProgress);
        Assert.Equal(OrderErrors.InvalidTransition, started.Reject(RejectionReason.Other, null, null, Later).Error!.Code);
    }

    [Fact]
    public void Reject_validates_its_lines_against_the_order()
    {
        var order = InStatus(OrderStatus.AwaitingShipment);
        var before = order.ToState();

        var outcome = order.Reject(RejectionReason.IneligibleProduct, new string('m', 501),
            [new RejectionLine("NOT-ON-ORDER", null), new RejectionLine("SKU-1", null), new RejectionLine("SKU-1", null)], Later);

        Assert.Equal(OrderErrors.ValidationFailed, outcome.Error!.Code);
        Assert.Equal(before, order.ToState());
        var errors = Rejection.Validate(order, new string('m', 501), [new RejectionLine("NOT-ON-ORDER", null), new RejectionLine("SKU-1", null), new RejectionLine("SKU-1", null)]);
        Assert.Equal(["lines[0].sku", "lines[2].sku", "message"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(OrderErrors.ValidationFailed, order.Reject((RejectionReason)99, null, null, Later).Error!.Code);
    }

    [Fact]
    public void Only_the_most_recent_rejections_are_kept()
    {
        var order = Create();
        for (var i = 0; i < Order.MaxRejections + 3; i++)
        {
            Assert.True(order.Delegate(Delegation(), T0.AddMinutes(i)).Succeeded);
            Assert.True(order.Reject(RejectionReason.Other, $"#{i}", null, T0.AddMinutes(i)).Succeeded);
        }

        Assert.Equal(Order.MaxRejections, order.Rejections.Count);
        Assert.Equal("#3", order.Rejections[0].Message);
        Assert.Equal($"#{Order.MaxRejections + 2}", order.Rejections[^1].Message);
    }

    [Fact]
    public void A_held_order_cannot_be_started_or_shipped_until_every_hold_is_released()
    {
        var order = InStatus(OrderStatus.AwaitingShipment);
        var merchantHold = HoldId();
        var threePlHold = HoldId();
        Assert.True(order.PlaceHold(merchantHold, HoldReason.HighRiskOfFraud, "check", Party.Merchant, Later).Succeeded);
        Assert.True(order.PlaceHold(threePlHold, HoldReason.UnknownDeliveryDate, null, Party.ThreePl, Later).Succeeded);

        Assert.Equal(FulfilmentErrors.OnHold, order.Start(Later).Error!.Code);
        Assert.Equal(FulfilmentErrors.OnHold, order.Ship(ShipmentId(), "DHL", "X", "T1", null, Later).Error!.Code);
        var released = order.ReleaseHold(merchantHold, Party.Merchant, Later);
        Assert.Equal(merchantHold, Assert.IsType<OrderReleased>(Assert.Single(released.Events)).Hold.Id);
        Assert.Equal(FulfilmentErrors.OnHold, order.Start(Later).Error!.Code);
        Assert.True(order.ReleaseHold(threePlHold, Party.ThreePl, Later).Succeeded);
        Assert.True(order.Start(Later).Succeeded);
    }

    [Fact]
    public void Only_the_placing_side_releases_a_hold()
    {
        var order = InStatus(OrderStatus.InProgress);
        var hold = HoldId();
        Assert.True(order.PlaceHold(hold, HoldReason.Other, null, Party.ThreePl, Later).Succeeded);
        var before = order.ToState();

        var outcome = order.ReleaseHold(hold, Party.Merchant, Later);

        Assert.Equal(FulfilmentErrors.HoldPlacedByOtherParty, outcome.Error!.Code);
        Assert.Equal(before, order.ToState());
        Assert.Equal(FulfilmentErrors.HoldNotFound, order.ReleaseHold(HoldId(), Party.ThreePl, Later).Error!.Code);
    }

    [Fact]
    public void Holds_are_bounded_and_their_notes_validated()
    {
        var order = InStatus(OrderStatus.InProgress);
        for (var i = 0; i < Order.MaxHolds; i++)
        {
            Assert.Single(order.PlaceHold(HoldId(), HoldReason.Other, $"#{i}", Party.Merchant, Later).Events);
        }

        Assert.Equal(FulfilmentErrors.TooManyHolds, order.PlaceHold(HoldId(), HoldReason.Other, "one more", Party.Merchant, Later).Error!.Code);
        Assert.Empty(order.PlaceHold(HoldId(), HoldReason.Other, "#0", Party.Merchant, Later).Events);
        Assert.Equal(OrderErrors.ValidationFailed, order.PlaceHold(HoldId(), HoldReason.Other, new string('n', 501), Party.Merchant, Later).Error!.Code);
        Assert.Equal(OrderErrors.ValidationFailed, order.PlaceHold(HoldId(), (HoldReason)99, null, Party.Merchant, Later).Error!.Code);
        Assert.Throws<ArgumentException>(() => order.PlaceHold("hold-1", HoldReason.Other, null, Party.Merchant, Later));
    }

    public static TheoryData<OrderStatus, Party> StatusesThatTakeHolds()
    {
        var data = new TheoryData<OrderStatus, Party>();
        foreach (var status in Enum.GetValues<OrderStatus>().Where(s => !s.IsTerminal()))
        {
            data.Add(status, Party.Merchant);
            data.Add(status, Party.ThreePl);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(StatusesThatTakeHolds))]
    public void A_hold_like_a_standing_one_by_the_same_side_is_a_repeat_with_no_event(OrderStatus status, Party party)
    {
        var order = InStatus(status);
        var first = HoldId();
        Assert.Single(order.PlaceHold(first, HoldReason.IncorrectAddress, "flat number?", party, Later).Events);
        var before = order.ToState();

        var repeat = order.PlaceHold(HoldId(), HoldReason.IncorrectAddress, "flat number?", party, Later.AddMinutes(1));

        Assert.True(repeat.Succeeded);
        Assert.Empty(repeat.Events);
        Assert.Equal(before, order.ToState());
        Assert.Equal(first, order.StandingHold(HoldReason.IncorrectAddress, "flat number?", party)!.Id);
    }

    [Fact]
    public void A_hold_that_differs_in_side_reason_or_note_is_a_new_hold_and_no_note_equals_an_empty_one()
    {
        var order = InStatus(OrderStatus.AwaitingShipment);
        Assert.Single(order.PlaceHold(HoldId(), HoldReason.Other, null, Party.Merchant, Later).Events);

        Assert.Empty(order.PlaceHold(HoldId(), HoldReason.Other, "", Party.Merchant, Later).Events);
        Assert.Single(order.PlaceHold(HoldId(), HoldReason.Other, null, Party.ThreePl, Later).Events);
        Assert.Single(order.PlaceHold(HoldId(), HoldReason.AwaitingPayment, null, Party.Merchant, Later).Events);
        Assert.Single(order.PlaceHold(HoldId(), HoldReason.Other, "call first", Party.Merchant, Later).Events);
        Assert.Equal(4, order.Holds.Count);
        Assert.Null(order.StandingHold(HoldReason.HighRiskOfFraud, null, Party.Merchant));
    }

    [Fact]
    public void A_hold_like_a_released_one_is_a_new_hold()
    {
        var order = InStatus(OrderStatus.InProgress);
        var first = HoldId();
        Assert.Single(order.PlaceHold(first, HoldReason.Other, "n", Party.Merchant, Later).Events);
        Assert.Single(order.ReleaseHold(first, Party.Merchant, Later).Events);

        var again = order.PlaceHold(HoldId(), HoldReason.Other, "n", Party.Merchant, Later);

        Assert.NotEqual(first, Assert.IsType<OrderHeld>(Assert.Single(again.Events)).Hold.Id);
    }

    [Theory]
    [MemberData(nameof(StatusesThatTakeHolds))]
    public void Releasing_a_released_hold_again_is_a_repeat_with_no_event_and_still_only_the_placing_sides(OrderStatus status, Party party)
    {
        var order = InStatus(status);
        var hold = HoldId();
        Assert.Single(order.PlaceHold(hold, HoldReason.Other, null, party, Later).Events);
        Assert.Single(order.ReleaseHold(hold, party, Later).Events);
        var before = order.ToState();

        var repeat = order.ReleaseHold(hold, party, Later.AddMinutes(1));

        Assert.True(repeat.Succeeded);
        Assert.Empty(repeat.Events);
        Assert.Equal(before, order.ToState());
        var other = party == Party.Merchant ? Party.ThreePl : Party.Merchant;
        Assert.Equal(FulfilmentErrors.HoldPlacedByOtherParty, order.ReleaseHold(hold, other, Later).Error!.Code);
        Assert.Equal(before, order.ToState());
    }

    [Fact]
    public void A_released_hold_is_recognised_after_the_order_was_cancelled_and_only_the_most_recent_are_remembered()
    {
        var order = InStatus(OrderStatus.InProgress);
        var ids = new List<string>();
        for (var i = 0; i <= Order.MaxReleasedHolds; i++)
        {
            ids.Add(HoldId());
            Assert.Single(order.PlaceHold(ids[^1], HoldReason.Other, $"#{i}", Party.Merchant, Later).Events);
            Assert.Single(order.ReleaseHold(ids[^1], Party.Merchant, Later).Events);
        }
        Assert.True(order.Cancel(Later).Succeeded);
        Assert.True(order.AcceptCancellation(Later).Succeeded);

        Assert.Equal(Order.MaxReleasedHolds, order.ReleasedHolds.Count);
        Assert.Equal(FulfilmentErrors.HoldNotFound, order.ReleaseHold(ids[0], Party.Merchant, Later).Error!.Code);
        var repeat = order.ReleaseHold(ids[1], Party.Merchant, Later);
        Assert.True(repeat.Succeeded);
        Assert.Empty(repeat.Events);
    }

    [Fact]
    public void A_repeated_hold_is_recognised_after_the_order_was_cancelled_and_input_is_checked_first()
    {
        var order = InStatus(OrderStatus.AwaitingShipment);
        Assert.Single(order.PlaceHold(HoldId(), HoldReason.Other, null, Party.Merchant, Later).Events);
        Assert.True(order.Cancel(Later).Succeeded);
        var before = order.ToState();

        var repeat = order.PlaceHold(HoldId(), HoldReason.Other, null, Party.Merchant, Later);

        Assert.True(repeat.Succeeded);
        Assert.Empty(repeat.Events);
        Assert.Equal(before, order.ToState());
        Assert.Equal(OrderErrors.InvalidTransition, order.PlaceHold(HoldId(), HoldReason.Other, null, Party.ThreePl, Later).Error!.Code);
        Assert.Equal(OrderErrors.ValidationFailed, order.PlaceHold(HoldId(), (HoldReason)99, null, Party.Merchant, Later).Error!.Code);
    }

    [Fact]
    public void Cancelling_a_held_order_follows_the_usual_rules()
    {
        var awaiting = InStatus(OrderStatus.AwaitingShipment);
        Assert.True(awaiting.PlaceHold(HoldId(), HoldReason.Other, null, Party.ThreePl, Later).Succeeded);
        Assert.True(awaiting.Cancel(Later).Succeeded);
        Assert.Equal(OrderStatus.Cancelled, awaiting.Status);

        var started = InStatus(OrderStatus.InProgress);
        Assert.True(started.PlaceHold(HoldId(), HoldReason.Other, null, Party.Merchant, Later).Succeeded);
        Assert.True(started.Cancel(Later).Succeeded);
        Assert.Equal(OrderStatus.CancellationRequested, started.Status);
    }

    [Fact]
    public void Shipping_one_then_two_units_makes_two_shipments_and_ships_the_order()
    {
        var order = Order.Create(OrderId.New(), AccountId.New(),
            OrderDraft.Validate("three", [new OrderLine("SKU-1", 3, null)], ValidAddress(), null, null).Draft!, T0).Order;
        Assert.True(order.Delegate(Delegation(), T0).Succeeded);

        var first = order.Ship(ShipmentId(), "DHL", "Express", "T-1", [new ShipmentLine("SKU-1", 1)], Later);
        Assert.Equal(OrderStatus.PartiallyShipped, Assert.IsType<OrderShipped>(Assert.Single(first.Events)).Status);
        Assert.Equal(1, order.QuantityShipped("SKU-1"));
        var second = order.Ship(ShipmentId(), "DHL", "Express", "T-2", null, Later.AddHours(1));

        Assert.Equal(OrderStatus.Shipped, order.Status);
        Assert.Equal([1, 2], order.Shipments.Select(s => s.Lines.Single().Quantity));
        Assert.Equal("T-2", order.Shipment!.TrackingNumber);
        Assert.Equal(3, order.QuantityShipped("SKU-1"));
        Assert.NotEqual(order.Shipments[0].Id, order.Shipments[1].Id);
        Assert.Single(second.Events);
    }

    [Fact]
    public void A_repeated_shipment_ships_once_and_a_reused_tracking_number_with_other_lines_is_refused()
    {
        var order = InStatus(OrderStatus.InProgress);
        Assert.True(order.Ship(ShipmentId(), "DHL", "Express", "T-1", [new ShipmentLine("SKU-1", 1)], Later).Succeeded);
        var before = order.ToState();

        var repeat = order.Ship(ShipmentId(), "DHL", "Express", "T-1", [new ShipmentLine("SKU-1", 1)], Later.AddMinutes(1));
        var repeatWithoutLines = order.Ship(ShipmentId(), "DHL", "Express", "T-1", null, Later.AddMinutes(1));
        var other = order.Ship(ShipmentId(), "DHL", "Express", "T-1", [new ShipmentLine("SKU-2", 1)], Later.AddMinutes(1));

        Assert.True(repeat.Succeeded);
        Assert.Empty(repeat.Events);
        Assert.True(repeatWithoutLines.Succeeded);
        Assert.Empty(repeatWithoutLines.Events);
        Assert.Equal(FulfilmentErrors.TrackingNumberInUse, other.Error!.Code);
        Assert.Equal(before, order.ToState());
    }

    [Fact]
    public void Ship_refuses_more_units_than_are_left_and_skus_not_on_the_order()
    {
        var order = InStatus(OrderStatus.PartiallyShipped);
        var before = order.ToState();

        Assert.Equal(["lines[0].quantity"], Shipment.ValidateLines(order, [new ShipmentLine("SKU-1", 2)]).Keys);
        Assert.Equal(["lines[0].sku"], Shipment.ValidateLines(order, [new ShipmentLine("X", 1)]).Keys);
        Assert.Equal(["lines[1].sku"], Shipment.ValidateLines(order, [new ShipmentLine("SKU-2", 1), new ShipmentLine("SKU-2", 1)]).Keys);
        Assert.Equal(["lines"], Shipment.ValidateLines(order, []).Keys);
        Assert.Equal(["lines[0].quantity"], Shipment.ValidateLines(order, [new ShipmentLine("SKU-2", 0)]).Keys);
        Assert.Equal(OrderErrors.ValidationFailed, order.Ship(ShipmentId(), "DHL", "X", "T-9", [new ShipmentLine("SKU-1", 2)], Later).Error!.Code);
        Assert.Equal(before, order.ToState());
    }

    [Fact]
    public void Shipments_are_bounded()
    {
        var order = Order.Create(OrderId.New(), AccountId.New(),
            OrderDraft.Validate("many", [new OrderLine("SKU-1", Order.MaxShipments + 5, null)], ValidAddress(), null, null).Draft!, T0).Order;
        Assert.True(order.Delegate(Delegation(), T0).Succeeded);
        for (var i = 0; i < Order.MaxShipments; i++)
        {
            Assert.True(order.Ship(ShipmentId(), "DHL", "X", $"T-{i}", [new ShipmentLine("SKU-1", 1)], Later).Succeeded);
        }

        Assert.Equal(FulfilmentErrors.TooManyShipments, order.Ship(ShipmentId(), "DHL", "X", "T-last", null, Later).Error!.Code);
    }

    [Fact]
    public void Cancelling_after_a_partial_shipment_asks_for_the_rest_and_a_refusal_returns_to_partially_shipped()
    {
        var order = InStatus(OrderStatus.PartiallyShipped);

        Assert.True(order.Cancel(Later).Succeeded);
        Assert.Equal(OrderStatus.CancellationRequested, order.Status);
        Assert.True(order.RejectCancellation(Later).Succeeded);
        Assert.Equal(OrderStatus.PartiallyShipped, order.Status);
        Assert.True(order.Cancel(Later).Succeeded);
        Assert.True(order.AcceptCancellation(Later).Succeeded);
        Assert.Equal(OrderStatus.Cancelled, order.Status);
        Assert.Single(order.Shipments);
    }

    [Fact]
    public void Hand_back_of_an_order_with_a_shipment_is_refused()
    {
        var order = InStatus(OrderStatus.PartiallyShipped);

        Assert.Equal(OrderErrors.InvalidTransition, order.HandBack(Later).Error!.Code);
    }

    [Fact]
    public void An_overdue_request_escalates_once_and_only_for_its_own_delegation()
    {
        var order = InStatus(OrderStatus.AwaitingShipment);
        var connection = order.ConnectionId!.Value;
        var requestedAt = order.Request!.RequestedAt;

        Assert.Equal(OrderErrors.InvalidTransition, order.MarkRequestOverdue(ConnectionId.New(), requestedAt, false, Later).Error!.Code);
        Assert.Equal(OrderErrors.InvalidTransition, order.MarkRequestOverdue(connection, requestedAt.AddSeconds(1), false, Later).Error!.Code);
        var outcome = order.MarkRequestOverdue(connection, requestedAt, false, Later);
        Assert.IsType<OrderRequestOverdue>(Assert.Single(outcome.Events));
        Assert.Equal(Later, order.Request.OverdueAt);
        Assert.Equal(OrderErrors.InvalidTransition, order.MarkRequestOverdue(connection, requestedAt, false, Later).Error!.Code);
    }

    [Fact]
    public void An_overdue_request_can_hand_the_order_back_in_the_same_change()
    {
        var order = InStatus(OrderStatus.AwaitingShipment);
        var connection = order.ConnectionId!.Value;
        Assert.True(order.PlaceHold(HoldId(), HoldReason.Other, null, Party.ThreePl, Later).Succeeded);
        var version = order.Version;

        var outcome = order.MarkRequestOverdue(connection, order.Request!.RequestedAt, true, Later);

        var overdue = Assert.IsType<OrderRequestOverdue>(Assert.Single(outcome.Events));
        Assert.Equal((OrderStatus.Open, connection, version + 1), (overdue.Status, overdue.ConnectionId!.Value, overdue.Version));
        Assert.Null(order.Delegation);
        Assert.Null(order.Request);
        Assert.Empty(order.Holds);
        Assert.Empty(order.Rejections);
    }

    [Fact]
    public void An_accepted_request_is_never_overdue()
    {
        var order = InStatus(OrderStatus.AwaitingShipment);
        Assert.True(order.Accept(Later).Succeeded);

        Assert.Equal(OrderErrors.InvalidTransition, order.MarkRequestOverdue(order.ConnectionId!.Value, order.Request!.RequestedAt, false, Later).Error!.Code);
    }

    [Fact]
    public void Restore_round_trips_holds_shipments_rejections_and_the_request()
    {
        var order = Create();
        Assert.True(order.Delegate(Delegation(), T0).Succeeded);
        Assert.True(order.Reject(RejectionReason.Other, "m", [new RejectionLine("SKU-1", "x")], T0).Succeeded);
        Assert.True(order.Delegate(Delegation(), T0).Succeeded);
        Assert.True(order.Accept(T0).Succeeded);
        Assert.True(order.Ship(ShipmentId(), "DHL", "X", "T", [new ShipmentLine("SKU-2", 1)], T0).Succeeded);
        Assert.True(order.PlaceHold(HoldId(), HoldReason.Other, "n", Party.Merchant, T0).Succeeded);

        var restored = Order.Restore(order.ToState());

        Assert.Equal(order.ToState(), restored.ToState() with { Lines = order.Lines });
        Assert.Throws<InvalidOperationException>(() => Order.Restore(order.ToState() with { Holds = [order.Holds[0], order.Holds[0]] }));
        Assert.Throws<InvalidOperationException>(() => Order.Restore(order.ToState() with { ReleasedHolds = [new ReleasedHold(order.Holds[0].Id, Party.Merchant)] }));
        Assert.Throws<InvalidOperationException>(() => Order.Restore(order.ToState() with { ReleasedHolds = null! }));
    }

    [Fact]
    public void Reason_wire_names_round_trip()
    {
        Assert.Equal(["incorrect_address", "ineligible_product", "inventory_out_of_stock", "undeliverable_destination", "other"], FulfilmentNames.RejectionReasons);
        Assert.Equal(["awaiting_payment", "high_risk_of_fraud", "incorrect_address", "inventory_out_of_stock", "unknown_delivery_date", "other"], FulfilmentNames.HoldReasons);
        foreach (var reason in Enum.GetValues<RejectionReason>())
        {
            Assert.True(FulfilmentNames.TryParse(FulfilmentNames.ToWire(reason), out RejectionReason parsed));
            Assert.Equal(reason, parsed);
        }
        foreach (var reason in Enum.GetValues<HoldReason>())
        {
            Assert.True(FulfilmentNames.TryParse(FulfilmentNames.ToWire(reason), out HoldReason parsed));
            Assert.Equal(reason, parsed);
        }
        Assert.False(FulfilmentNames.TryParse("Other", out RejectionReason _));
        Assert.False(FulfilmentNames.TryParse(null, out HoldReason _));
    }
}
