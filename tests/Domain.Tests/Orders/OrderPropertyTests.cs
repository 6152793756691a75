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
/// Shipped quantities never exceed the ordered ones and never decrease; shipped means every unit shipped and
/// partially_shipped some; a held order never starts or ships; a delegation always comes with its request.
/// </summary>
public class OrderPropertyTests
{
    private sealed record Step(OrderCommand Command, int Connection, bool ValidShipInput, int MinutesLater, int Line, int Quantity, int Tracking);

    private static readonly Gen<Step> StepGen =
        from command in Gen.Elements(Enum.GetValues<OrderCommand>())
        from connection in Gen.Choose(0, 1)
        from valid in Gen.Elements(true, true, true, false)
        from minutes in Gen.Choose(0, 600)
        from line in Gen.Choose(0, 1)
        from quantity in Gen.Choose(0, 3)
        from tracking in Gen.Choose(0, 5)
        select new Step(command, connection, valid, minutes, line, quantity, tracking);

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
        (OrderStatus.CancellationRequested, OrderStatus.PartiallyShipped),
        (OrderStatus.AwaitingShipment, OrderStatus.PartiallyShipped),
        (OrderStatus.InProgress, OrderStatus.PartiallyShipped),
        (OrderStatus.PartiallyShipped, OrderStatus.PartiallyShipped),
        (OrderStatus.PartiallyShipped, OrderStatus.Shipped),
        (OrderStatus.PartiallyShipped, OrderStatus.CancellationRequested),
        (OrderStatus.Open, OrderStatus.Open),
        (OrderStatus.AwaitingShipment, OrderStatus.AwaitingShipment),
        (OrderStatus.InProgress, OrderStatus.InProgress),
        (OrderStatus.CancellationRequested, OrderStatus.CancellationRequested),
        (OrderStatus.Shipped, OrderStatus.Shipped),
        (OrderStatus.Cancelled, OrderStatus.Cancelled),
    ];

    [Fact]
    public void A_seeded_random_walk_never_ships_more_than_ordered_nor_unships()
    {
        var random = new Random(20261206);
        var reached = new HashSet<OrderStatus>();
        for (var walk = 0; walk < 300; walk++)
        {
            var steps = Enumerable.Range(0, random.Next(1, 40)).Select(_ => new Step(
                (OrderCommand)random.Next(Enum.GetValues<OrderCommand>().Length), random.Next(2), random.Next(4) > 0,
                random.Next(600), random.Next(2), random.Next(4), random.Next(6))).ToArray();
            Run(steps, reached);
        }
        Assert.Contains(OrderStatus.PartiallyShipped, reached);
        Assert.Contains(OrderStatus.Shipped, reached);
    }

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
            var shippedBefore = order.Lines.ToDictionary(l => l.Sku, l => order.QuantityShipped(l.Sku));
            var sku = order.Lines[step.Line].Sku;
            var holdId = order.Holds.Count > 0 && step.Quantity > 0 ? order.Holds[0].Id
                : order.ReleasedHolds.Count > 0 && step.Quantity == 0 && step.ValidShipInput ? order.ReleasedHolds[^1].Id
                : OrderFixture.HoldId();

            var outcome = step.Command switch
            {
                OrderCommand.Delegate => order.Delegate(OrderFixture.Delegation(connections[step.Connection]), now),
                OrderCommand.Start => order.Start(now),
                OrderCommand.Ship => step.ValidShipInput
                    ? order.Ship(OrderFixture.ShipmentId(), "DHL", "Express", $"T{step.Tracking}", null, now)
                    : order.Ship(OrderFixture.ShipmentId(), "", "Express", "T", null, now),
                OrderCommand.ShipPartial => order.Ship(OrderFixture.ShipmentId(), "DHL", "Express", $"T{step.Tracking}", [new ShipmentLine(sku, step.Quantity)], now),
                OrderCommand.Cancel => order.Cancel(now),
                OrderCommand.AcceptCancellation => order.AcceptCancellation(now),
                OrderCommand.RejectCancellation => order.RejectCancellation(now),
                OrderCommand.Accept => order.Accept(now),
                OrderCommand.Reject => order.Reject(RejectionReason.Other, null, step.ValidShipInput ? null : [new RejectionLine("NOPE", null)], now),
                OrderCommand.MarkOverdue => order.MarkRequestOverdue(connections[step.Connection], order.Request?.RequestedAt ?? now, !step.ValidShipInput, now),
                OrderCommand.HoldByMerchant => order.PlaceHold(OrderFixture.HoldId(), HoldReason.Other, $"n{step.Tracking}", Domain.Connections.Party.Merchant, now),
                OrderCommand.HoldByThreePl => order.PlaceHold(OrderFixture.HoldId(), HoldReason.Other, $"n{step.Tracking}", Domain.Connections.Party.ThreePl, now),
                OrderCommand.ReleaseHold => order.ReleaseHold(holdId, (Domain.Connections.Party)step.Connection, now),
                _ => order.HandBack(now),
            };

            foreach (var line in order.Lines)
            {
                Assert.InRange(order.QuantityShipped(line.Sku), shippedBefore[line.Sku], line.Quantity);
            }
            if (before.Holds.Count > 0)
            {
                Assert.False(outcome.Succeeded && step.Command == OrderCommand.Start);
                Assert.True(order.Shipments.Count == before.Shipments.Count);
            }

            Assert.True(Enum.IsDefined(order.Status));
            reached.Add(order.Status);
            if (outcome.Succeeded && outcome.Events.Count == 0)
            {
                // Only a repeat of a shipment, of a standing hold or of a release succeeds without changing anything.
                Assert.Contains(step.Command, new[] { OrderCommand.Ship, OrderCommand.ShipPartial, OrderCommand.HoldByMerchant, OrderCommand.HoldByThreePl, OrderCommand.ReleaseHold });
                if (step.Command is OrderCommand.ReleaseHold)
                {
                    Assert.Contains(before.ReleasedHolds, h => h.Id == holdId);
                }
                if (step.Command is OrderCommand.HoldByMerchant or OrderCommand.HoldByThreePl)
                {
                    Assert.NotNull(order.StandingHold(HoldReason.Other, $"n{step.Tracking}", step.Command == OrderCommand.HoldByMerchant ? Domain.Connections.Party.Merchant : Domain.Connections.Party.ThreePl));
                }
                Assert.Equal(before, order.ToState());
            }
            else if (outcome.Succeeded)
            {
                Assert.False(before.Status.IsTerminal() && step.Command is not OrderCommand.ReleaseHold);
                Assert.Contains((before.Status, order.Status), Edges);
                Assert.Equal(before.Version + 1, order.Version);
                var @event = Assert.Single(outcome.Events);
                Assert.Equal(order.Id, @event.OrderId);
                Assert.Equal(order.Version, @event.Version);
                Assert.Equal(order.Status, @event.Status);
                Assert.Equal(now, @event.OccurredAt);
                Assert.Equal(now, order.UpdatedAt);
                Assert.Equal(@event is OrderHandedBack or OrderRejected or OrderRequestOverdue ? before.Delegation!.ConnectionId : order.ConnectionId, @event.ConnectionId);
            }
            else
            {
                Assert.Empty(outcome.Events);
                Assert.Contains(outcome.Error!.Code, new[]
                {
                    OrderErrors.InvalidTransition, OrderErrors.ValidationFailed, FulfilmentErrors.OnHold, FulfilmentErrors.HoldNotFound,
                    FulfilmentErrors.HoldPlacedByOtherParty, FulfilmentErrors.TooManyHolds, FulfilmentErrors.TrackingNumberInUse,
                });
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
        Assert.Equal(order.Delegation is null, order.Request is null);
        var all = order.Lines.All(l => order.QuantityLeft(l.Sku) == 0);
        Assert.Equal(order.Status == OrderStatus.Shipped, all);
        if (order.Status == OrderStatus.PartiallyShipped)
        {
            Assert.NotEmpty(order.Shipments);
        }
        if (order.Status is OrderStatus.Open or OrderStatus.AwaitingShipment or OrderStatus.InProgress)
        {
            Assert.Empty(order.Shipments);
        }
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
