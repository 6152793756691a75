using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Domain.Orders;

namespace ThreePL.Domain.Tests.Orders;

/// <summary>The commands an order accepts, for table-driven tests.</summary>
public enum OrderCommand
{
    Delegate,
    Start,
    Ship,
    Cancel,
    AcceptCancellation,
    RejectCancellation,
    HandBack,
    Accept,
    Reject,
    MarkOverdue,
    ShipPartial,
    HoldByMerchant,
    HoldByThreePl,
    ReleaseHold,
}

internal static class OrderFixture
{
    public static readonly DateTimeOffset T0 = new(2025, 3, 1, 9, 0, 0, TimeSpan.Zero);

    public static Address ValidAddress() =>
        new("Ada Lovelace", "1 Analytical St", null, "London", "N1 9GU", null, "GB", "+44 20 0000 0000", "ada@example.com");

    public static OrderDraft Draft(string externalId = "shop-1001") =>
        OrderDraft.Validate(externalId, [new OrderLine("SKU-1", 2, "Widget"), new OrderLine("SKU-2", 1, null)],
            ValidAddress(), "express", "Leave at the door").Draft!;

    public static Delegation Delegation(ConnectionId? connectionId = null) =>
        Domain.Orders.Delegation.From(connectionId ?? ConnectionId.New(), ConnectionSettings.Default);

    public static string ShipmentId() => Identifier.New(Shipment.IdPrefix);

    public static string HoldId() => Identifier.New(Hold.IdPrefix);

    public static Order Create() => Order.Create(OrderId.New(), AccountId.New(), Draft(), T0).Order;

    /// <summary>An order brought to <paramref name="status"/> through legal commands only.</summary>
    public static Order InStatus(OrderStatus status)
    {
        var order = Create();
        var t = T0.AddHours(1);
        void Do(Outcome<OrderEvent> o) => Assert.True(o.Succeeded, o.Error?.ToString());
        switch (status)
        {
            case OrderStatus.Open:
                break;
            case OrderStatus.AwaitingShipment:
                Do(order.Delegate(Delegation(), t));
                break;
            case OrderStatus.InProgress:
                Do(order.Delegate(Delegation(), t));
                Do(order.Start(t));
                break;
            case OrderStatus.CancellationRequested:
                Do(order.Delegate(Delegation(), t));
                Do(order.Start(t));
                Do(order.Cancel(t));
                break;
            case OrderStatus.PartiallyShipped:
                Do(order.Delegate(Delegation(), t));
                Do(order.Ship(ShipmentId(), "DHL", "Express", "JD0000", [new ShipmentLine("SKU-1", 1)], t));
                break;
            case OrderStatus.Shipped:
                Do(order.Delegate(Delegation(), t));
                Do(order.Start(t));
                Do(order.Ship(ShipmentId(), "DHL", "Express", "JD0001", null, t));
                break;
            case OrderStatus.Cancelled:
                Do(order.Cancel(t));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(status));
        }
        Assert.Equal(status, order.Status);
        return order;
    }

    public static Outcome<OrderEvent> Run(Order order, OrderCommand command, DateTimeOffset now) => command switch
    {
        OrderCommand.Delegate => order.Delegate(Delegation(), now),
        OrderCommand.Start => order.Start(now),
        OrderCommand.Ship => order.Ship(ShipmentId(), "UPS", "Ground", "1Z999", null, now),
        OrderCommand.ShipPartial => order.Ship(ShipmentId(), "UPS", "Ground", "1Z998", [new ShipmentLine("SKU-1", 1)], now),
        OrderCommand.Cancel => order.Cancel(now),
        OrderCommand.AcceptCancellation => order.AcceptCancellation(now),
        OrderCommand.RejectCancellation => order.RejectCancellation(now),
        OrderCommand.HandBack => order.HandBack(now),
        OrderCommand.Accept => order.Accept(now),
        OrderCommand.Reject => order.Reject(RejectionReason.InventoryOutOfStock, "No stock", [new RejectionLine("SKU-2", "sold out")], now),
        OrderCommand.MarkOverdue => order.MarkRequestOverdue(order.ConnectionId ?? ConnectionId.New(), order.Request?.RequestedAt ?? now, false, now),
        OrderCommand.HoldByMerchant => order.PlaceHold(HoldId(), HoldReason.AwaitingPayment, "card declined", Party.Merchant, now),
        OrderCommand.HoldByThreePl => order.PlaceHold(HoldId(), HoldReason.InventoryOutOfStock, null, Party.ThreePl, now),
        OrderCommand.ReleaseHold => order.ReleaseHold(HoldId(), Party.Merchant, now),
        _ => throw new ArgumentOutOfRangeException(nameof(command)),
    };
}
