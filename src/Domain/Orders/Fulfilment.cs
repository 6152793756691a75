using System.Diagnostics.CodeAnalysis;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;

namespace ThreePL.Domain.Orders;

/// <summary>
/// The fulfilment request a delegation makes of the 3PL: pending until the 3PL accepts it (explicitly, or by
/// starting or shipping), gone when the 3PL rejects it or the order is handed back. It exists exactly while the
/// order has a <see cref="Delegation"/>.
/// </summary>
/// <param name="RequestedAt">When the order was delegated; identifies the delegation for its deadline.</param>
/// <param name="AcceptedAt">When the 3PL accepted; null while pending.</param>
/// <param name="OverdueAt">When the request was escalated as overdue; null unless it was, so it escalates once.</param>
public sealed record FulfilmentRequest(DateTimeOffset RequestedAt, DateTimeOffset? AcceptedAt, DateTimeOffset? OverdueAt)
{
    /// <summary>True once the 3PL accepted the request.</summary>
    public bool IsAccepted => AcceptedAt is not null;
}

/// <summary>Why a 3PL rejects a fulfilment request.</summary>
public enum RejectionReason
{
    /// <summary>The address cannot be shipped to as written.</summary>
    IncorrectAddress,

    /// <summary>A product is one the 3PL does not handle.</summary>
    IneligibleProduct,

    /// <summary>The stock is not there.</summary>
    InventoryOutOfStock,

    /// <summary>The 3PL does not ship to the destination.</summary>
    UndeliverableDestination,

    /// <summary>Anything else; the message says what.</summary>
    Other,
}

/// <summary>Why an order is on hold.</summary>
public enum HoldReason
{
    /// <summary>The customer has not paid yet.</summary>
    AwaitingPayment,

    /// <summary>The order looks fraudulent.</summary>
    HighRiskOfFraud,

    /// <summary>The address needs fixing.</summary>
    IncorrectAddress,

    /// <summary>The stock is not there yet.</summary>
    InventoryOutOfStock,

    /// <summary>The customer asked for a later date that is not known yet.</summary>
    UnknownDeliveryDate,

    /// <summary>Anything else; the note says what.</summary>
    Other,
}

/// <summary>Wire names (<c>snake_case</c>) of <see cref="RejectionReason"/> and <see cref="HoldReason"/>.</summary>
public static class FulfilmentNames
{
    private static readonly Dictionary<RejectionReason, string> Rejections = new()
    {
        [RejectionReason.IncorrectAddress] = "incorrect_address",
        [RejectionReason.IneligibleProduct] = "ineligible_product",
        [RejectionReason.InventoryOutOfStock] = "inventory_out_of_stock",
        [RejectionReason.UndeliverableDestination] = "undeliverable_destination",
        [RejectionReason.Other] = "other",
    };

    private static readonly Dictionary<HoldReason, string> Holds = new()
    {
        [HoldReason.AwaitingPayment] = "awaiting_payment",
        [HoldReason.HighRiskOfFraud] = "high_risk_of_fraud",
        [HoldReason.IncorrectAddress] = "incorrect_address",
        [HoldReason.InventoryOutOfStock] = "inventory_out_of_stock",
        [HoldReason.UnknownDeliveryDate] = "unknown_delivery_date",
        [HoldReason.Other] = "other",
    };

    /// <summary>Every rejection reason's wire name.</summary>
    public static IReadOnlyCollection<string> RejectionReasons => Rejections.Values;

    /// <summary>Every hold reason's wire name.</summary>
    public static IReadOnlyCollection<string> HoldReasons => Holds.Values;

    /// <summary>The wire name of <paramref name="reason"/>.</summary>
    public static string ToWire(RejectionReason reason) => Rejections[reason];

    /// <summary>The wire name of <paramref name="reason"/>.</summary>
    public static string ToWire(HoldReason reason) => Holds[reason];

    /// <summary>Parses a rejection reason exactly; false for anything else.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out RejectionReason reason) => TryFind(Rejections, value, out reason);

    /// <summary>Parses a hold reason exactly; false for anything else.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out HoldReason reason) => TryFind(Holds, value, out reason);

    private static bool TryFind<T>(Dictionary<T, string> names, string? value, out T found) where T : struct, Enum
    {
        foreach (var (key, name) in names)
        {
            if (string.Equals(name, value, StringComparison.Ordinal))
            {
                found = key;
                return true;
            }
        }
        found = default;
        return false;
    }
}

/// <summary>A line a rejection comments on.</summary>
/// <param name="Sku">A SKU of the order.</param>
/// <param name="Message">What is wrong with it, if said.</param>
public sealed record RejectionLine(string Sku, string? Message);

/// <summary>A 3PL's rejection of a fulfilment request, kept on the order for both parties to read.</summary>
/// <param name="ConnectionId">The connection that rejected.</param>
/// <param name="Reason">Why.</param>
/// <param name="Message">Free text, if given.</param>
/// <param name="Lines">Per-line details; SKUs of the order, each at most once.</param>
/// <param name="RejectedAt">When.</param>
public sealed record Rejection(ConnectionId ConnectionId, RejectionReason Reason, string? Message, IReadOnlyList<RejectionLine> Lines, DateTimeOffset RejectedAt)
{
    /// <summary>Longest message, on the rejection and on each line.</summary>
    public const int MessageMaxLength = 500;

    /// <summary>Field errors (<c>message</c>, <c>lines[i].sku</c>, <c>lines[i].message</c>) for reject input against <paramref name="order"/>.</summary>
    public static IReadOnlyDictionary<string, string[]> Validate(Order order, string? message, IReadOnlyList<RejectionLine?>? lines)
    {
        ArgumentNullException.ThrowIfNull(order);
        var errors = new FieldErrors();
        Text.Optional(errors, "message", message, MessageMaxLength);
        if (lines is { Count: > OrderDraft.MaxLines })
        {
            errors.Add("lines", $"At most {OrderDraft.MaxLines} lines are allowed.");
            return errors.ToDictionary();
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (lines?.Count ?? 0); i++)
        {
            var path = $"lines[{i}]";
            if (lines![i] is not { } line)
            {
                errors.Add(path, "Must not be null.");
                continue;
            }
            if (string.IsNullOrEmpty(line.Sku) || !order.Lines.Any(l => l.Sku == line.Sku))
            {
                errors.Add(path + ".sku", "Must be a SKU of the order.");
            }
            else if (!seen.Add(line.Sku))
            {
                errors.Add(path + ".sku", "Names a SKU already listed.");
            }
            Text.Optional(errors, path + ".message", line.Message, MessageMaxLength);
        }
        return errors.ToDictionary();
    }
}

/// <summary>A standing hold: while any stands, the order cannot be started or shipped.</summary>
/// <param name="Id">The hold's id (<c>hld_…</c>).</param>
/// <param name="Reason">Why.</param>
/// <param name="Note">Free text, if given.</param>
/// <param name="PlacedBy">The side that placed it, the only side that may release it.</param>
/// <param name="PlacedAt">When.</param>
public sealed record Hold(string Id, HoldReason Reason, string? Note, Party PlacedBy, DateTimeOffset PlacedAt)
{
    /// <summary>The prefix of hold ids.</summary>
    public const string IdPrefix = "hld";

    /// <summary>Longest note.</summary>
    public const int NoteMaxLength = 500;

    /// <summary>Field errors (<c>note</c>) for hold input.</summary>
    public static IReadOnlyDictionary<string, string[]> Validate(string? note)
    {
        var errors = new FieldErrors();
        Text.Optional(errors, "note", note, NoteMaxLength, allowLineBreaks: true);
        return errors.ToDictionary();
    }
}

/// <summary>A hold that was released: what recognising a retried release needs, and no more.</summary>
/// <param name="Id">The hold's id.</param>
/// <param name="PlacedBy">The side that placed, and so released, it.</param>
public sealed record ReleasedHold(string Id, Party PlacedBy);

/// <summary>Units of one line in a shipment.</summary>
/// <param name="Sku">A SKU of the order.</param>
/// <param name="Quantity">At least 1.</param>
public sealed record ShipmentLine(string Sku, int Quantity);

/// <summary>The stable codes of the fulfilment-protocol failures, besides <see cref="OrderErrors"/>.</summary>
public static class FulfilmentErrors
{
    /// <summary>A standing hold blocks starting or shipping (HTTP 409).</summary>
    public const string OnHold = "order_on_hold";

    /// <summary>No standing or recently released hold has this id (HTTP 404).</summary>
    public const string HoldNotFound = "hold_not_found";

    /// <summary>Only the side that placed a hold releases it (HTTP 403).</summary>
    public const string HoldPlacedByOtherParty = "hold_placed_by_other_party";

    /// <summary>The order already has the most standing holds allowed (HTTP 409).</summary>
    public const string TooManyHolds = "too_many_holds";

    /// <summary>The order already has the most shipments allowed (HTTP 409).</summary>
    public const string TooManyShipments = "too_many_shipments";

    /// <summary>A shipment with this tracking number but other lines exists (HTTP 409).</summary>
    public const string TrackingNumberInUse = "tracking_number_in_use";
}
