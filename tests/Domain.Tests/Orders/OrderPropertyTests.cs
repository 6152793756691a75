using FsCheck;
using FsCheck.Fluent;
using ThreePL.Domain.Common;
using ThreePL.Domain.Orders;

namespace ThreePL.Domain.Tests.Orders;

/// <summary>
/// Random sequences of order commands (with valid and invalid ship input, two possible connections) at random,
/// non-decreasing times. After every command: the status is a defined value; an order with a delegation is never
/// open, and one in awaiting_shipment, in_progress, cancellation_requested or shipped always has one; a shipment
/// exists exactly when shipped; a cancellation timestamp exists when cancellation is requested and never in
/// open, awaiting_shipment, in_progress or shipped; a success bumps Version by exactly 1 and returns exactly one
/// event carrying the order id, the new version, the new status, <c>now</c> and the connection it concerns (the
/// previous one for a hand-back); a failure returns no event and changes nothing; nothing succeeds from shipped
/// or cancelled; the lines, address and creation data never change; Restore(ToState()) reproduces the state.
/// </summary>
public class OrderPropertyTests
{
    private sealed record Step(OrderCommand Command, int Connection, bool ValidShipInput, int MinutesLater);

    private static readonly Gen<Step> StepGen =
        from command in Gen.Elements(Enum.GetValues<OrderCommand>())
        from connection in Gen.Choose(0, 1)
        from valid in Gen.Elements(true, true, true, false)
        from minutes in Gen.Choose(0, 600)
        select new Step(command, connection, valid, minutes);

    private static readonly HashSet<(OrderStatus, OrderStatus)> Edges =
    [
        (OrderStatus.Open, OrderStatus.AwaitingShipment),
        (OrderStatus.Open, OrderStatus.Cancelled),
        (OrderStatus.AwaitingShipment, OrderStatus.InProgress),
        (OrderStatus.AwaitingShipment, OrderStatus.Shipped),
        (OrderStatus.AwaitingShipment, OrderStatus.Cancelled),
        (OrderStatus.AwaitingShipment, OrderStatus.Open),
        (OrderStatus.InProgress, OrderStatus.Shipped),
        (OrderStatus.InProgress, OrderStatus.CancellationRequested),
        (OrderStatus.CancellationRequested, OrderStatus.Cancelled),
        (OrderStatus.CancellationRequested, OrderStatus.InProgress),
    ];

    [Fact]
    public void Invariants_hold_after_any_sequence_of_commands()
    {
        var reached = new HashSet<OrderStatus>();
        var property = Prop.ForAll(Gen.ArrayOf(StepGen).ToArbitrary(), steps => Run(steps, reached));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500), property);

        Assert.Equal(Enum.GetValues<OrderStatus>().ToHashSet(), reached);
    }

    private static void Run(Step[] steps, HashSet<OrderStatus> reached)
    {
        var connections = new[] { ConnectionId.New(), ConnectionId.New() };
        var now = OrderFixture.T0;
        var (order, _) = Order.Create(OrderId.New(), AccountId.New(), OrderFixture.Draft(), now);
        var initial = order.ToState();
        AssertStructure(order);

        foreach (var step in steps)
        {
            now = now.AddMinutes(step.MinutesLater);
            var before = order.ToState();

            var outcome = step.Command switch
            {
                OrderCommand.Delegate => order.Delegate(OrderFixture.Delegation(connections[step.Connection]), now),
                OrderCommand.Start => order.Start(now),
                OrderCommand.Ship => step.ValidShipInput
                    ? order.Ship("DHL", "Express", $"T{step.MinutesLater}", now)
                    : order.Ship("", "Express", "T", now),
                OrderCommand.Cancel => order.Cancel(now),
                OrderCommand.AcceptCancellation => order.AcceptCancellation(now),
                OrderCommand.RejectCancellation => order.RejectCancellation(now),
                _ => order.HandBack(now),
            };

            Assert.True(Enum.IsDefined(order.Status));
            reached.Add(order.Status);
            if (outcome.Succeeded)
            {
                Assert.False(before.Status.IsTerminal());
                Assert.Contains((before.Status, order.Status), Edges);
                Assert.Equal(before.Version + 1, order.Version);
                var @event = Assert.Single(outcome.Events);
                Assert.Equal(order.Id, @event.OrderId);
                Assert.Equal(order.Version, @event.Version);
                Assert.Equal(order.Status, @event.Status);
                Assert.Equal(now, @event.OccurredAt);
                Assert.Equal(now, order.UpdatedAt);
                Assert.Equal(@event is OrderHandedBack ? before.Delegation!.ConnectionId : order.ConnectionId, @event.ConnectionId);
            }
            else
            {
                Assert.Empty(outcome.Events);
                Assert.Contains(outcome.Error!.Code, new[] { OrderErrors.InvalidTransition, OrderErrors.ValidationFailed });
                Assert.Equal(before, order.ToState());
            }

            Assert.Same(initial.Lines, order.Lines);
            Assert.Equal(initial.ShipTo, order.ShipTo);
            Assert.Equal(initial.CreatedAt, order.CreatedAt);
            Assert.Equal(initial.ExternalId, order.ExternalId);
            AssertStructure(order);
        }
    }

    private static void AssertStructure(Order order)
    {
        if (order.Status == OrderStatus.Open)
        {
            Assert.Null(order.Delegation);
        }
        if (order.Status.RequiresDelegation())
        {
            Assert.NotNull(order.Delegation);
        }
        Assert.Equal(order.Status == OrderStatus.Shipped, order.Shipment is not null);
        if (order.Status == OrderStatus.CancellationRequested)
        {
            Assert.NotNull(order.CancellationRequestedAt);
        }
        else if (order.Status != OrderStatus.Cancelled)
        {
            Assert.Null(order.CancellationRequestedAt);
        }
        var restored = Order.Restore(order.ToState());
        Assert.Equal(order.ToState(), restored.ToState() with { Lines = order.Lines });
    }
}
