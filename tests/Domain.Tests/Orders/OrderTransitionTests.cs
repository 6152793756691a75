using ThreePL.Domain.Common;
using ThreePL.Domain.Orders;
using static ThreePL.Domain.Tests.Orders.OrderFixture;

namespace ThreePL.Domain.Tests.Orders;

public class OrderTransitionTests
{
    /// <summary>The legal transitions; every pair not listed must fail with invalid_transition.</summary>
    private static readonly Dictionary<(OrderStatus, OrderCommand), (OrderStatus To, Type Event, string Wire)> Legal = new()
    {
        [(OrderStatus.Open, OrderCommand.Delegate)] = (OrderStatus.AwaitingShipment, typeof(OrderDelegated), "order.created"),
        [(OrderStatus.Open, OrderCommand.Cancel)] = (OrderStatus.Cancelled, typeof(OrderCancelled), "order.updated"),
        [(OrderStatus.AwaitingShipment, OrderCommand.Start)] = (OrderStatus.InProgress, typeof(OrderStarted), "order.updated"),
        [(OrderStatus.AwaitingShipment, OrderCommand.Ship)] = (OrderStatus.Shipped, typeof(OrderShipped), "order.shipped"),
        [(OrderStatus.AwaitingShipment, OrderCommand.Cancel)] = (OrderStatus.Cancelled, typeof(OrderCancelled), "order.updated"),
        [(OrderStatus.AwaitingShipment, OrderCommand.HandBack)] = (OrderStatus.Open, typeof(OrderHandedBack), "order.handed_back"),
        [(OrderStatus.InProgress, OrderCommand.Ship)] = (OrderStatus.Shipped, typeof(OrderShipped), "order.shipped"),
        [(OrderStatus.InProgress, OrderCommand.Cancel)] = (OrderStatus.CancellationRequested, typeof(OrderCancellationRequested), "order.updated"),
        [(OrderStatus.CancellationRequested, OrderCommand.AcceptCancellation)] = (OrderStatus.Cancelled, typeof(OrderCancellationAccepted), "order.updated"),
        [(OrderStatus.CancellationRequested, OrderCommand.RejectCancellation)] = (OrderStatus.InProgress, typeof(OrderCancellationRejected), "order.updated"),
        [(OrderStatus.AwaitingShipment, OrderCommand.Accept)] = (OrderStatus.AwaitingShipment, typeof(OrderAccepted), "order.accepted"),
        [(OrderStatus.AwaitingShipment, OrderCommand.Reject)] = (OrderStatus.Open, typeof(OrderRejected), "order.rejected"),
        [(OrderStatus.AwaitingShipment, OrderCommand.MarkOverdue)] = (OrderStatus.AwaitingShipment, typeof(OrderRequestOverdue), "order.request_overdue"),
        [(OrderStatus.AwaitingShipment, OrderCommand.ShipPartial)] = (OrderStatus.PartiallyShipped, typeof(OrderShipped), "order.shipped"),
        [(OrderStatus.InProgress, OrderCommand.ShipPartial)] = (OrderStatus.PartiallyShipped, typeof(OrderShipped), "order.shipped"),
        [(OrderStatus.PartiallyShipped, OrderCommand.ShipPartial)] = (OrderStatus.PartiallyShipped, typeof(OrderShipped), "order.shipped"),
        [(OrderStatus.PartiallyShipped, OrderCommand.Ship)] = (OrderStatus.Shipped, typeof(OrderShipped), "order.shipped"),
        [(OrderStatus.PartiallyShipped, OrderCommand.Cancel)] = (OrderStatus.CancellationRequested, typeof(OrderCancellationRequested), "order.updated"),
        [(OrderStatus.Open, OrderCommand.HoldByMerchant)] = (OrderStatus.Open, typeof(OrderHeld), "order.held"),
        [(OrderStatus.Open, OrderCommand.HoldByThreePl)] = (OrderStatus.Open, typeof(OrderHeld), "order.held"),
        [(OrderStatus.AwaitingShipment, OrderCommand.HoldByMerchant)] = (OrderStatus.AwaitingShipment, typeof(OrderHeld), "order.held"),
        [(OrderStatus.AwaitingShipment, OrderCommand.HoldByThreePl)] = (OrderStatus.AwaitingShipment, typeof(OrderHeld), "order.held"),
        [(OrderStatus.InProgress, OrderCommand.HoldByMerchant)] = (OrderStatus.InProgress, typeof(OrderHeld), "order.held"),
        [(OrderStatus.InProgress, OrderCommand.HoldByThreePl)] = (OrderStatus.InProgress, typeof(OrderHeld), "order.held"),
        [(OrderStatus.PartiallyShipped, OrderCommand.HoldByMerchant)] = (OrderStatus.PartiallyShipped, typeof(OrderHeld), "order.held"),
        [(OrderStatus.PartiallyShipped, OrderCommand.HoldByThreePl)] = (OrderStatus.PartiallyShipped, typeof(OrderHeld), "order.held"),
        [(OrderStatus.CancellationRequested, OrderCommand.HoldByMerchant)] = (OrderStatus.CancellationRequested, typeof(OrderHeld), "order.held"),
        [(OrderStatus.CancellationRequested, OrderCommand.HoldByThreePl)] = (OrderStatus.CancellationRequested, typeof(OrderHeld), "order.held"),
    };

    /// <summary>Releasing a hold that does not stand fails as such in every status; every other illegal pair is a transition error.</summary>
    private static string FailureCode(OrderCommand command) =>
        command == OrderCommand.ReleaseHold ? FulfilmentErrors.HoldNotFound : OrderErrors.InvalidTransition;

    public static TheoryData<OrderStatus, OrderCommand> AllPairs()
    {
        var data = new TheoryData<OrderStatus, OrderCommand>();
        foreach (var status in Enum.GetValues<OrderStatus>())
        {
            foreach (var command in Enum.GetValues<OrderCommand>())
            {
                data.Add(status, command);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(AllPairs))]
    public void Every_status_and_command_pair_behaves_as_the_table_says(OrderStatus status, OrderCommand command)
    {
        var order = InStatus(status);
        var before = order.ToState();
        var now = T0.AddDays(1);

        var outcome = Run(order, command, now);

        if (Legal.TryGetValue((status, command), out var expected))
        {
            Assert.True(outcome.Succeeded, outcome.Error?.ToString());
            Assert.Equal(expected.To, order.Status);
            var @event = Assert.Single(outcome.Events);
            Assert.IsType(expected.Event, @event);
            Assert.Equal(expected.Wire, @event.Type);
            Assert.Equal(order.Id, @event.OrderId);
            Assert.Equal(before.Version + 1, order.Version);
            Assert.Equal(order.Version, @event.Version);
            Assert.Equal(order.Status, @event.Status);
            Assert.Equal(now, @event.OccurredAt);
            Assert.Equal(now, order.UpdatedAt);
            Assert.Equal(command is OrderCommand.HandBack or OrderCommand.Reject ? before.Delegation!.ConnectionId : order.ConnectionId, @event.ConnectionId);
        }
        else
        {
            Assert.False(outcome.Succeeded);
            Assert.Equal(FailureCode(command), outcome.Error!.Code);
            if (FailureCode(command) == OrderErrors.InvalidTransition)
            {
                Assert.Contains($"is {OrderStatusNames.ToWire(status)};", outcome.Error.Message, StringComparison.Ordinal);
            }
            Assert.Empty(outcome.Events);
            Assert.Equal(before, order.ToState());
        }
    }

    [Fact]
    public void The_table_covers_the_full_cross_product_and_names_only_real_pairs()
    {
        var pairs = AllPairs().Select(row => ((OrderStatus)row[0], (OrderCommand)row[1])).ToHashSet();
        Assert.Equal(Enum.GetValues<OrderStatus>().Length * Enum.GetValues<OrderCommand>().Length, pairs.Count);
        Assert.Subset(pairs, Legal.Keys.ToHashSet());
        Assert.DoesNotContain(Legal.Keys, k => k.Item1.IsTerminal());
    }

    [Fact]
    public void Create_makes_an_open_order_at_version_1_with_an_internal_event()
    {
        var id = OrderId.New();
        var merchant = AccountId.New();

        var (order, received) = Order.Create(id, merchant, Draft(), T0);

        Assert.Equal(OrderStatus.Open, order.Status);
        Assert.Equal(1, order.Version);
        Assert.Null(order.Delegation);
        Assert.Null(order.ConnectionId);
        Assert.Equal(2, order.Lines.Count);
        Assert.Equal("shop-1001", order.ExternalId);
        Assert.Equal(merchant, received.MerchantAccountId);
        Assert.Equal(1, received.Version);
        Assert.Null(received.Type);
    }

    [Fact]
    public void Delegate_keeps_the_settings_snapshot()
    {
        var order = Create();
        var connection = ConnectionId.New();
        var settings = Domain.Connections.ConnectionSettings.Default
            .Apply(new Domain.Connections.ConnectionSettingsChange(InternalCustomerId: "C-9", OrderFeeBilledTo: Domain.Connections.SettingsOwner.Merchant))
            .Settings;

        var outcome = order.Delegate(Domain.Orders.Delegation.From(connection, settings), T0.AddHours(1));

        var delegated = Assert.IsType<OrderDelegated>(Assert.Single(outcome.Events));
        Assert.Equal(connection, order.ConnectionId);
        Assert.Equal(2, order.Delegation!.SettingsVersion);
        Assert.Equal("C-9", order.Delegation.InternalCustomerId);
        Assert.Equal(order.Delegation, delegated.Delegation);
    }

    [Fact]
    public void Delegate_throws_for_an_impossible_delegation()
    {
        var order = Create();

        Assert.Throws<ArgumentException>(() => order.Delegate(Delegation() with { SettingsVersion = 0 }, T0));
        Assert.Throws<ArgumentException>(() => order.Delegate(Delegation() with { ConnectionId = default }, T0));
    }

    [Fact]
    public void HandBack_clears_the_delegation_and_names_the_previous_connection()
    {
        var order = InStatus(OrderStatus.AwaitingShipment);
        var previous = order.ConnectionId;

        var outcome = order.HandBack(T0.AddDays(1));

        var handedBack = Assert.IsType<OrderHandedBack>(Assert.Single(outcome.Events));
        Assert.Equal(previous, handedBack.ConnectionId);
        Assert.Null(order.Delegation);
        Assert.Equal(OrderStatus.Open, order.Status);
        Assert.True(order.Delegate(Delegation(), T0.AddDays(2)).Succeeded);
    }

    [Fact]
    public void Ship_records_the_shipment_and_who_is_billed()
    {
        var order = InStatus(OrderStatus.InProgress);
        var now = T0.AddDays(2);

        var id = ShipmentId();
        var outcome = order.Ship(id, "DHL", "Express", "JD0001", null, now);

        var shipped = Assert.IsType<OrderShipped>(Assert.Single(outcome.Events));
        Assert.Equal((id, "DHL", "Express", "JD0001", now), (order.Shipment!.Id, order.Shipment.Carrier, order.Shipment.Service, order.Shipment.TrackingNumber, order.Shipment.ShippedAt));
        Assert.Equal([new ShipmentLine("SKU-1", 2), new ShipmentLine("SKU-2", 1)], order.Shipment.Lines);
        Assert.Equal(order.Shipment, shipped.Shipment);
        Assert.Equal(Domain.Connections.SettingsOwner.ThreePl, shipped.OrderFeeBilledTo);
    }

    [Theory]
    [InlineData("", "Express", "JD1", "carrier")]
    [InlineData("DHL", " ", "JD1", "service")]
    [InlineData("DHL", "Express", "", "trackingNumber")]
    [InlineData("DHL", "Express", "JD\u0001", "trackingNumber")]
    public void Ship_fails_with_validation_failed_for_bad_input(string carrier, string service, string tracking, string field)
    {
        var order = InStatus(OrderStatus.InProgress);
        var before = order.ToState();

        var outcome = order.Ship(ShipmentId(), carrier, service, tracking, null, T0.AddDays(1));

        Assert.Equal(OrderErrors.ValidationFailed, outcome.Error!.Code);
        Assert.Contains(field, outcome.Error.Message, StringComparison.Ordinal);
        Assert.Equal(before, order.ToState());
        Assert.Equal([field], Shipment.Validate(carrier, service, tracking).Keys);
    }

    [Fact]
    public void Ship_strings_of_100_characters_pass_and_101_fail()
    {
        var s100 = new string('a', 100);
        Assert.Empty(Shipment.Validate(s100, s100, s100));
        Assert.Equal(3, Shipment.Validate(s100 + "a", s100 + "a", s100 + "a").Count);
    }

    [Fact]
    public void Cancellation_request_is_timestamped_and_cleared_when_rejected()
    {
        var order = InStatus(OrderStatus.InProgress);
        var requestedAt = T0.AddDays(1);

        Assert.True(order.Cancel(requestedAt).Succeeded);
        Assert.Equal(requestedAt, order.CancellationRequestedAt);
        Assert.True(order.RejectCancellation(requestedAt.AddHours(1)).Succeeded);
        Assert.Null(order.CancellationRequestedAt);
        Assert.NotNull(order.Delegation);
    }

    [Fact]
    public void Cancelling_a_delegated_order_keeps_its_delegation_so_the_3pl_still_sees_it()
    {
        var order = InStatus(OrderStatus.AwaitingShipment);
        var connection = order.ConnectionId;

        var outcome = order.Cancel(T0.AddDays(1));

        Assert.Equal(connection, Assert.Single(outcome.Events).ConnectionId);
        Assert.Equal(connection, order.ConnectionId);
    }

    [Theory]
    [InlineData(OrderStatus.Open)]
    [InlineData(OrderStatus.AwaitingShipment)]
    [InlineData(OrderStatus.InProgress)]
    [InlineData(OrderStatus.PartiallyShipped)]
    [InlineData(OrderStatus.CancellationRequested)]
    [InlineData(OrderStatus.Shipped)]
    [InlineData(OrderStatus.Cancelled)]
    public void Restore_round_trips_every_status(OrderStatus status)
    {
        var order = InStatus(status);

        Assert.Equal(order.ToState(), Order.Restore(order.ToState()).ToState() with { Lines = order.Lines });
        Assert.Equal(order.Lines, Order.Restore(order.ToState()).Lines);
    }

    [Fact]
    public void Restore_throws_for_impossible_states()
    {
        var open = InStatus(OrderStatus.Open).ToState();
        var awaiting = InStatus(OrderStatus.AwaitingShipment).ToState();
        var shipped = InStatus(OrderStatus.Shipped).ToState();

        Assert.Throws<InvalidOperationException>(() => Order.Restore(open with { Delegation = Delegation() }));
        Assert.Throws<InvalidOperationException>(() => Order.Restore(awaiting with { Delegation = null }));
        Assert.Throws<InvalidOperationException>(() => Order.Restore(shipped with { Shipments = [] }));
        Assert.Throws<InvalidOperationException>(() => Order.Restore(awaiting with { Shipments = shipped.Shipments }));
        Assert.Throws<InvalidOperationException>(() => Order.Restore(shipped with { Shipments = [.. shipped.Shipments, shipped.Shipments[0] with { TrackingNumber = "again" }] }));
        Assert.Throws<InvalidOperationException>(() => Order.Restore(shipped with { Status = OrderStatus.PartiallyShipped }));
        Assert.Throws<InvalidOperationException>(() => Order.Restore(awaiting with { Request = null }));
        Assert.Throws<InvalidOperationException>(() => Order.Restore(open with { Request = new FulfilmentRequest(T0, null, null) }));
        Assert.Throws<InvalidOperationException>(() => Order.Restore(awaiting with { CancellationRequestedAt = T0 }));
        Assert.Throws<InvalidOperationException>(() => Order.Restore(open with { Lines = [] }));
        Assert.Throws<InvalidOperationException>(() => Order.Restore(open with { Version = 0 }));
        Assert.Throws<InvalidOperationException>(() => Order.Restore(open with { Status = (OrderStatus)42 }));
        Assert.Throws<InvalidOperationException>(() => Order.Restore(awaiting with { Delegation = Delegation() with { SettingsVersion = 0 } }));
    }

    [Fact]
    public void Status_wire_names_round_trip()
    {
        Assert.Equal(["open", "awaiting_shipment", "in_progress", "partially_shipped", "cancellation_requested", "shipped", "cancelled"], OrderStatusNames.All);
        foreach (var status in Enum.GetValues<OrderStatus>())
        {
            Assert.True(OrderStatusNames.TryParse(OrderStatusNames.ToWire(status), out var parsed));
            Assert.Equal(status, parsed);
        }
        Assert.False(OrderStatusNames.TryParse("in-progress", out _));
        Assert.False(OrderStatusNames.TryParse(null, out _));
    }

    [Fact]
    public void Lines_cannot_be_changed_through_the_public_surface()
    {
        var order = Create();

        Assert.False(order.Lines is OrderLine[]);
        Assert.Throws<NotSupportedException>(() => ((IList<OrderLine>)order.Lines).Add(new OrderLine("X", 1, null)));
    }
}
