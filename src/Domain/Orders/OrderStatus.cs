using System.Diagnostics.CodeAnalysis;

namespace ThreePL.Domain.Orders;

/// <summary>Where an order is in fulfilment.</summary>
public enum OrderStatus
{
    /// <summary>With the merchant; not delegated to any connection.</summary>
    Open,

    /// <summary>Delegated to a 3PL that has not started it.</summary>
    AwaitingShipment,

    /// <summary>The 3PL is working on it.</summary>
    InProgress,

    /// <summary>Some units shipped, others not yet.</summary>
    PartiallyShipped,

    /// <summary>The merchant asked to cancel an order in progress; the 3PL accepts or rejects.</summary>
    CancellationRequested,

    /// <summary>Shipped (terminal).</summary>
    Shipped,

    /// <summary>Cancelled (terminal).</summary>
    Cancelled,
}

/// <summary>Classifies <see cref="OrderStatus"/> values.</summary>
public static class OrderStatusExtensions
{
    /// <summary>Shipped or cancelled: no transition leaves these.</summary>
    public static bool IsTerminal(this OrderStatus status) => status is OrderStatus.Shipped or OrderStatus.Cancelled;

    /// <summary>The statuses in which an order is always delegated to a connection.</summary>
    public static bool RequiresDelegation(this OrderStatus status) =>
        status is OrderStatus.AwaitingShipment or OrderStatus.InProgress or OrderStatus.PartiallyShipped
            or OrderStatus.CancellationRequested or OrderStatus.Shipped;
}

/// <summary>The wire names of <see cref="OrderStatus"/> (<c>open</c>, <c>awaiting_shipment</c>, …).</summary>
public static class OrderStatusNames
{
    private static readonly Dictionary<OrderStatus, string> ToName = new()
    {
        [OrderStatus.Open] = "open",
        [OrderStatus.AwaitingShipment] = "awaiting_shipment",
        [OrderStatus.InProgress] = "in_progress",
        [OrderStatus.PartiallyShipped] = "partially_shipped",
        [OrderStatus.CancellationRequested] = "cancellation_requested",
        [OrderStatus.Shipped] = "shipped",
        [OrderStatus.Cancelled] = "cancelled",
    };

    private static readonly Dictionary<string, OrderStatus> FromName =
        ToName.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);

    /// <summary>Every wire name, in declaration order.</summary>
    public static IReadOnlyCollection<string> All => ToName.Values;

    /// <summary>The wire name of <paramref name="status"/>; throws for an undefined value.</summary>
    public static string ToWire(OrderStatus status) =>
        ToName.TryGetValue(status, out var name)
            ? name
            : throw new ArgumentOutOfRangeException(nameof(status), status, "Undefined order status.");

    /// <summary>Parses a wire name exactly (case-sensitive); false for anything else.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out OrderStatus status)
    {
        if (value is not null && FromName.TryGetValue(value, out status))
        {
            return true;
        }
        status = default;
        return false;
    }
}

/// <summary>The stable codes of the rule failures an order command can return.</summary>
public static class OrderErrors
{
    /// <summary>The command is not allowed in the order's current status (HTTP 409).</summary>
    public const string InvalidTransition = "invalid_transition";

    /// <summary>Input failed validation; field errors accompany it where the caller validated first (HTTP 400).</summary>
    public const string ValidationFailed = Common.FieldErrors.Code;
}
