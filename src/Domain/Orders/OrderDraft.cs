using ThreePL.Domain.Common;

namespace ThreePL.Domain.Orders;

/// <summary>
/// A merchant's order as validated at intake. Only <see cref="Validate"/> makes one, so holding a draft proves
/// the input passed every rule; <see cref="Order.Create"/> takes it.
/// </summary>
/// <remarks>
/// Duplicate SKUs are rejected rather than merged: the merchant's shop sent two lines for one product, and
/// silently adding them up could hide a mistake (and lose a differing name). The shop can merge and resend.
/// </remarks>
public sealed class OrderDraft
{
    /// <summary>Longest external id.</summary>
    public const int ExternalIdMaxLength = 100;

    /// <summary>Most lines in one order.</summary>
    public const int MaxLines = 250;

    /// <summary>Longest SKU.</summary>
    public const int SkuMaxLength = 64;

    /// <summary>Largest quantity on one line.</summary>
    public const int MaxQuantity = 100_000;

    /// <summary>Longest line name.</summary>
    public const int LineNameMaxLength = 200;

    /// <summary>Longest notes (line breaks allowed).</summary>
    public const int NotesMaxLength = 2000;

    /// <summary>Longest shipping service.</summary>
    public const int ShippingServiceMaxLength = 100;

    private OrderDraft(string externalId, IReadOnlyList<OrderLine> lines, Address shipTo, string? shippingService, string? notes)
    {
        ExternalId = externalId;
        Lines = lines;
        ShipTo = shipTo;
        ShippingService = shippingService;
        Notes = notes;
    }

    /// <summary>The shop's order id; intake is idempotent on it per merchant.</summary>
    public string ExternalId { get; }

    /// <summary>1–250 lines with distinct SKUs.</summary>
    public IReadOnlyList<OrderLine> Lines { get; }

    /// <summary>Where to ship; its country code is upper case.</summary>
    public Address ShipTo { get; }

    /// <summary>The shipping service the customer chose, if any.</summary>
    public string? ShippingService { get; }

    /// <summary>The merchant's notes for the 3PL, if any.</summary>
    public string? Notes { get; }

    /// <summary>
    /// Validates intake input. Every problem is reported, keyed by its JSON path (<c>externalId</c>,
    /// <c>lines[3].quantity</c>, <c>shipTo.countryCode</c>). Nulls are tolerated anywhere, since input comes from
    /// JSON. The country code is accepted in any case and stored upper case.
    /// </summary>
    public static OrderDraftResult Validate(
        string? externalId,
        IReadOnlyList<OrderLine?>? lines,
        Address? shipTo,
        string? shippingService,
        string? notes)
    {
        var errors = new FieldErrors();
        Text.Required(errors, "externalId", externalId, ExternalIdMaxLength);

        if (lines is null || lines.Count == 0)
        {
            errors.Add("lines", "At least one line is required.");
        }
        else if (lines.Count > MaxLines)
        {
            errors.Add("lines", $"At most {MaxLines} lines are allowed.");
        }
        else
        {
            ValidateLines(errors, lines);
        }

        var normalizedShipTo = shipTo is null ? null : ValidateAddress(errors, "shipTo", shipTo);
        if (shipTo is null)
        {
            errors.Add("shipTo", "Is required.");
        }
        Text.Optional(errors, "shippingService", shippingService, ShippingServiceMaxLength);
        Text.Optional(errors, "notes", notes, NotesMaxLength, allowLineBreaks: true);

        if (!errors.IsEmpty)
        {
            return new OrderDraftResult(null, errors.ToDictionary());
        }
        return new OrderDraftResult(
            new OrderDraft(externalId!, lines!.Select(l => l!).ToArray(), normalizedShipTo!,
                string.IsNullOrEmpty(shippingService) ? null : shippingService,
                string.IsNullOrEmpty(notes) ? null : notes),
            new Dictionary<string, string[]>());
    }

    private static void ValidateLines(FieldErrors errors, IReadOnlyList<OrderLine?> lines)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < lines.Count; i++)
        {
            var path = $"lines[{i}]";
            if (lines[i] is not { } line)
            {
                errors.Add(path, "Must not be null.");
                continue;
            }
            Text.Required(errors, path + ".sku", line.Sku, SkuMaxLength);
            if (line.Sku is not null && !seen.TryAdd(line.Sku, i))
            {
                errors.Add(path + ".sku", $"Duplicates the SKU of lines[{seen[line.Sku]}]; merge the lines.");
            }
            if (line.Quantity is < 1 or > MaxQuantity)
            {
                errors.Add(path + ".quantity", $"Must be between 1 and {MaxQuantity}.");
            }
            Text.Optional(errors, path + ".name", line.Name, LineNameMaxLength);
        }
    }

    private static Address ValidateAddress(FieldErrors errors, string path, Address address)
    {
        Text.Required(errors, path + ".name", address.Name, Address.NameMaxLength);
        Text.Required(errors, path + ".line1", address.Line1, Address.LineMaxLength);
        Text.Optional(errors, path + ".line2", address.Line2, Address.LineMaxLength);
        Text.Required(errors, path + ".city", address.City, Address.CityMaxLength);
        Text.Required(errors, path + ".postalCode", address.PostalCode, Address.PostalCodeMaxLength);
        Text.Optional(errors, path + ".region", address.Region, Address.RegionMaxLength);
        Text.Optional(errors, path + ".phone", address.Phone, Address.PhoneMaxLength);
        Text.Optional(errors, path + ".email", address.Email, Accounts.EmailAddress.MaxLength);
        if (address.Email is { Length: > 0 } email && !LooksLikeEmail(email))
        {
            errors.Add(path + ".email", "Must be an e-mail address.");
        }
        var country = address.CountryCode?.ToUpperInvariant();
        if (!CountryCodes.IsAssigned(country))
        {
            errors.Add(path + ".countryCode", "Must be an ISO 3166-1 alpha-2 country code, e.g. 'DE'.");
        }
        return address with { CountryCode = country ?? "" };
    }

    private static bool LooksLikeEmail(string value)
    {
        var at = value.IndexOf('@', StringComparison.Ordinal);
        return at > 0 && at == value.LastIndexOf('@') && at < value.Length - 1 && !value.Any(char.IsWhiteSpace);
    }
}

/// <summary>The result of <see cref="OrderDraft.Validate"/>: a draft, or field errors.</summary>
/// <param name="Draft">The valid draft, or null.</param>
/// <param name="Errors">Field errors keyed by JSON path; empty when valid.</param>
public sealed record OrderDraftResult(OrderDraft? Draft, IReadOnlyDictionary<string, string[]> Errors)
{
    /// <summary>True when the input is valid and <see cref="Draft"/> is set.</summary>
    public bool Succeeded => Draft is not null;
}
