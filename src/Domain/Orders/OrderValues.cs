using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;

namespace ThreePL.Domain.Orders;

/// <summary>One line of an order.</summary>
/// <param name="Sku">The merchant's SKU, 1–64 characters, unique within the order.</param>
/// <param name="Quantity">1–100 000 units.</param>
/// <param name="Name">Optional product name, at most 200 characters.</param>
public sealed record OrderLine(string Sku, int Quantity, string? Name);

/// <summary>A shipping address.</summary>
/// <param name="Name">Recipient, 1–100 characters.</param>
/// <param name="Line1">Street, 1–200 characters.</param>
/// <param name="Line2">Optional second line, at most 200 characters.</param>
/// <param name="City">City, 1–100 characters.</param>
/// <param name="PostalCode">Postal code, 1–20 characters.</param>
/// <param name="Region">Optional state or province, at most 100 characters.</param>
/// <param name="CountryCode">ISO 3166-1 alpha-2 code, upper case.</param>
/// <param name="Phone">Optional phone, at most 32 characters.</param>
/// <param name="Email">Optional e-mail, at most 254 characters.</param>
public sealed record Address(
    string Name,
    string Line1,
    string? Line2,
    string City,
    string PostalCode,
    string? Region,
    string CountryCode,
    string? Phone,
    string? Email)
{
    /// <summary>Most characters of <see cref="Name"/> (and of other names of a person or a place, such as a brand's warehouse).</summary>
    public const int NameMaxLength = 100;

    /// <summary>Most characters of <see cref="Line1"/> and <see cref="Line2"/>.</summary>
    public const int LineMaxLength = 200;

    /// <summary>Most characters of <see cref="City"/>.</summary>
    public const int CityMaxLength = 100;

    /// <summary>Most characters of <see cref="PostalCode"/>.</summary>
    public const int PostalCodeMaxLength = 20;

    /// <summary>Most characters of <see cref="Region"/>.</summary>
    public const int RegionMaxLength = 100;

    /// <summary>Most characters of <see cref="Phone"/>.</summary>
    public const int PhoneMaxLength = 32;
}

/// <summary>One parcel of an order: an order ships in one or several of them.</summary>
/// <param name="Id">The shipment's id (<c>shp_…</c>); billing records one usage line per id.</param>
/// <param name="Carrier">The carrier, 1–100 characters.</param>
/// <param name="Service">The carrier's service, 1–100 characters.</param>
/// <param name="TrackingNumber">The tracking number, 1–100 characters; unique among the order's shipments.</param>
/// <param name="Lines">The units it carries, each SKU at most once.</param>
/// <param name="ShippedAt">When it was recorded as shipped.</param>
public sealed record Shipment(string Id, string Carrier, string Service, string TrackingNumber, IReadOnlyList<ShipmentLine> Lines, DateTimeOffset ShippedAt)
{
    /// <summary>Longest accepted carrier, service or tracking number.</summary>
    public const int MaxLength = 100;

    /// <summary>The prefix of shipment ids.</summary>
    public const string IdPrefix = "shp";

    /// <summary>Field errors (<c>carrier</c>, <c>service</c>, <c>trackingNumber</c>) for ship input; empty when valid.</summary>
    public static IReadOnlyDictionary<string, string[]> Validate(string? carrier, string? service, string? trackingNumber)
    {
        var errors = new FieldErrors();
        Text.Required(errors, "carrier", carrier, MaxLength);
        Text.Required(errors, "service", service, MaxLength);
        Text.Required(errors, "trackingNumber", trackingNumber, MaxLength);
        return errors.ToDictionary();
    }

    /// <summary>
    /// Field errors (<c>lines</c>, <c>lines[i].sku</c>, <c>lines[i].quantity</c>) for the optional lines of ship input
    /// against what <paramref name="order"/> has left to ship; null lines mean "everything left" and are valid.
    /// </summary>
    public static IReadOnlyDictionary<string, string[]> ValidateLines(Order order, IReadOnlyList<ShipmentLine?>? lines)
    {
        ArgumentNullException.ThrowIfNull(order);
        var errors = new FieldErrors();
        if (lines is null)
        {
            return errors.ToDictionary();
        }
        if (lines.Count == 0 || lines.Count > OrderDraft.MaxLines)
        {
            errors.Add("lines", $"Give 1 to {OrderDraft.MaxLines} lines, or leave lines out to ship everything left.");
            return errors.ToDictionary();
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < lines.Count; i++)
        {
            var path = $"lines[{i}]";
            if (lines[i] is not { } line)
            {
                errors.Add(path, "Must not be null.");
                continue;
            }
            if (string.IsNullOrEmpty(line.Sku) || !order.Lines.Any(l => l.Sku == line.Sku))
            {
                errors.Add(path + ".sku", "Must be a SKU of the order.");
                continue;
            }
            if (!seen.Add(line.Sku))
            {
                errors.Add(path + ".sku", "Names a SKU already listed.");
                continue;
            }
            var left = order.QuantityLeft(line.Sku);
            if (line.Quantity < 1 || line.Quantity > left)
            {
                errors.Add(path + ".quantity", left == 0 ? "Every unit of this SKU has shipped." : $"Must be between 1 and {left}, the units not yet shipped.");
            }
        }
        return errors.ToDictionary();
    }
}

/// <summary>
/// The connection an order is delegated to, with the snapshot of the connection settings it was delegated under.
/// Later settings changes do not touch it.
/// </summary>
/// <param name="ConnectionId">The connection.</param>
/// <param name="SettingsVersion">The settings version at delegation.</param>
/// <param name="InternalCustomerId">The 3PL's id for the client at delegation.</param>
/// <param name="ShippingRules">Whose shipping rules apply.</param>
/// <param name="OrderFeeBilledTo">Who is billed for the shipment.</param>
/// <param name="SupportTickets">Who handles carrier support tickets.</param>
public sealed record Delegation(
    ConnectionId ConnectionId,
    int SettingsVersion,
    string? InternalCustomerId,
    SettingsOwner ShippingRules,
    SettingsOwner OrderFeeBilledTo,
    SettingsOwner SupportTickets)
{
    /// <summary>The snapshot of <paramref name="settings"/> for an order delegated to <paramref name="connectionId"/>.</summary>
    public static Delegation From(ConnectionId connectionId, ConnectionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new(connectionId, settings.Version, settings.InternalCustomerId,
            settings.ShippingRules, settings.OrderFeeBilledTo, settings.SupportTickets)
        {
            AcceptWithin = settings.AcceptWithin,
        };
    }

    /// <summary>The request deadline of the snapshot (<see cref="ConnectionSettings.AcceptWithin"/>); null when off.</summary>
    public TimeSpan? AcceptWithin { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> when the snapshot is impossible (a bug in the caller).</summary>
    internal void EnsureValid()
    {
        if (ConnectionId.Value is null || SettingsVersion < 1
            || !Enum.IsDefined(ShippingRules) || !Enum.IsDefined(OrderFeeBilledTo) || !Enum.IsDefined(SupportTickets)
            || InternalCustomerId is { Length: > ConnectionSettings.InternalCustomerIdMaxLength })
        {
            throw new ArgumentException($"Impossible delegation {this}.");
        }
    }
}
