using System.Text.RegularExpressions;
using System.Xml;
using ThreePL.Domain.Common;

namespace ThreePL.Domain.Connections;

/// <summary>
/// The 3PL's configuration of one connection, as an immutable, versioned value. Every real change makes a new
/// version; a delegated order keeps the version it was delegated under.
/// </summary>
public sealed record ConnectionSettings
{
    /// <summary>Longest accepted <see cref="InternalCustomerId"/>.</summary>
    public const int InternalCustomerIdMaxLength = 64;

    /// <summary>Longest accepted <see cref="WebhookUrl"/>, in characters.</summary>
    public const int WebhookUrlMaxLength = 2048;

    /// <summary>Longest accepted <see cref="AcceptWithin"/> text.</summary>
    public const int AcceptWithinMaxLength = 32;

    /// <summary>Shortest accepted <see cref="AcceptWithin"/>: less would escalate requests a 3PL is still reading.</summary>
    public static readonly TimeSpan AcceptWithinMin = TimeSpan.FromMinutes(5);

    /// <summary>Longest accepted <see cref="AcceptWithin"/>.</summary>
    public static readonly TimeSpan AcceptWithinMax = TimeSpan.FromDays(30);

    private ConnectionSettings(
        int version, bool manageOrders, SettingsOwner shippingRules, SettingsOwner orderFeeBilledTo,
        SettingsOwner supportTickets, string? internalCustomerId, Uri? webhookUrl, TimeSpan? acceptWithin)
    {
        AcceptWithin = acceptWithin;
        Version = version;
        ManageOrders = manageOrders;
        ShippingRules = shippingRules;
        OrderFeeBilledTo = orderFeeBilledTo;
        SupportTickets = supportTickets;
        InternalCustomerId = internalCustomerId;
        WebhookUrl = webhookUrl;
    }

    /// <summary>The settings of a new connection: version 1, orders managed, everything owned by the 3PL.</summary>
    public static ConnectionSettings Default { get; } =
        new(1, true, SettingsOwner.ThreePl, SettingsOwner.ThreePl, SettingsOwner.ThreePl, null, null, null);

    /// <summary>Starts at 1; +1 on every change that alters a value.</summary>
    public int Version { get; }

    /// <summary>Whether the 3PL receives this client's new orders.</summary>
    public bool ManageOrders { get; }

    /// <summary>Whose carrier accounts and shipping rules apply.</summary>
    public SettingsOwner ShippingRules { get; }

    /// <summary>Which account is invoiced for processed shipments.</summary>
    public SettingsOwner OrderFeeBilledTo { get; }

    /// <summary>Which account may open and answer carrier support tickets.</summary>
    public SettingsOwner SupportTickets { get; }

    /// <summary>The 3PL's own id for this client (at most 64 characters, no control characters).</summary>
    public string? InternalCustomerId { get; }

    /// <summary>
    /// The 3PL's per-client endpoint for this client's order events: absolute http(s), no user info. Whether it
    /// may be called (https only, public addresses) is the app's SSRF policy, not checked here.
    /// </summary>
    public Uri? WebhookUrl { get; }

    /// <summary>
    /// How long the 3PL has to accept or reject a fulfilment request before it is escalated (off when null),
    /// between <see cref="AcceptWithinMin"/> and <see cref="AcceptWithinMax"/>; on the wire an ISO 8601 duration.
    /// </summary>
    public TimeSpan? AcceptWithin { get; }

    /// <summary>The ISO 8601 form of a duration (<c>PT4H</c>, <c>P1DT30M</c>).</summary>
    public static string FormatDuration(TimeSpan duration) => XmlConvert.ToString(duration);

    /// <summary>
    /// Applies a partial change. On success returns the new settings with <see cref="Version"/> + 1; when the change
    /// alters nothing it returns these same settings with <see cref="SettingsChangeOutcome.Changed"/> false, so a
    /// repeated PATCH creates no new version and no <c>connection.settings_updated</c> event. On invalid input it
    /// returns every field error and these settings unchanged.
    /// </summary>
    public SettingsChangeOutcome Apply(ConnectionSettingsChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var errors = new FieldErrors();
        CheckOwner(errors, "shippingRules", change.ShippingRules);
        CheckOwner(errors, "orderFeeBilledTo", change.OrderFeeBilledTo);
        CheckOwner(errors, "supportTickets", change.SupportTickets);

        var internalCustomerId = InternalCustomerId;
        if (change.InternalCustomerId is { } id)
        {
            internalCustomerId = id.Length == 0 ? null : id;
            if (id.Length > 0)
            {
                ValidateInternalCustomerId(errors, id);
            }
        }

        var webhookUrl = WebhookUrl;
        if (change.WebhookUrl is { } url)
        {
            webhookUrl = url.Length == 0 ? null : ParseWebhookUrl(errors, url);
        }

        var acceptWithin = AcceptWithin;
        if (change.AcceptWithin is { } within)
        {
            acceptWithin = within.Length == 0 ? null : ParseAcceptWithin(errors, within);
        }

        if (!errors.IsEmpty)
        {
            return new SettingsChangeOutcome(this, false, errors.ToDictionary());
        }

        var next = new ConnectionSettings(
            Version + 1,
            change.ManageOrders ?? ManageOrders,
            change.ShippingRules ?? ShippingRules,
            change.OrderFeeBilledTo ?? OrderFeeBilledTo,
            change.SupportTickets ?? SupportTickets,
            internalCustomerId,
            webhookUrl,
            acceptWithin);
        return SameValues(next)
            ? new SettingsChangeOutcome(this, false, Empty)
            : new SettingsChangeOutcome(next, true, Empty);
    }

    /// <summary>Rebuilds stored settings; throws <see cref="InvalidOperationException"/> when they are impossible.</summary>
    public static ConnectionSettings Restore(ConnectionSettingsState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var errors = new FieldErrors();
        if (state.Version < 1)
        {
            errors.Add("version", "Must be at least 1.");
        }
        CheckOwner(errors, "shippingRules", state.ShippingRules);
        CheckOwner(errors, "orderFeeBilledTo", state.OrderFeeBilledTo);
        CheckOwner(errors, "supportTickets", state.SupportTickets);
        if (state.InternalCustomerId is not null)
        {
            ValidateInternalCustomerId(errors, state.InternalCustomerId);
        }
        var url = state.WebhookUrl is null ? null : ParseWebhookUrl(errors, state.WebhookUrl);
        if (state.AcceptWithin is { } within && (within < AcceptWithinMin || within > AcceptWithinMax))
        {
            errors.Add("acceptWithin", "Is out of bounds.");
        }
        if (!errors.IsEmpty)
        {
            throw new InvalidOperationException($"Stored connection settings are impossible: {errors}.");
        }
        return new ConnectionSettings(state.Version, state.ManageOrders, state.ShippingRules, state.OrderFeeBilledTo,
            state.SupportTickets, state.InternalCustomerId, url, state.AcceptWithin);
    }

    /// <summary>A snapshot for persistence.</summary>
    public ConnectionSettingsState ToState() => new(
        Version, ManageOrders, ShippingRules, OrderFeeBilledTo, SupportTickets, InternalCustomerId, WebhookUrl?.OriginalString)
    {
        AcceptWithin = AcceptWithin,
    };

    private static readonly IReadOnlyDictionary<string, string[]> Empty = new Dictionary<string, string[]>();

    private bool SameValues(ConnectionSettings other) =>
        ManageOrders == other.ManageOrders && ShippingRules == other.ShippingRules
        && OrderFeeBilledTo == other.OrderFeeBilledTo && SupportTickets == other.SupportTickets
        && string.Equals(InternalCustomerId, other.InternalCustomerId, StringComparison.Ordinal)
        && string.Equals(WebhookUrl?.OriginalString, other.WebhookUrl?.OriginalString, StringComparison.Ordinal)
        && AcceptWithin == other.AcceptWithin;

    private static readonly Regex DurationPattern = new(@"^P(?!$)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    private static TimeSpan? ParseAcceptWithin(FieldErrors errors, string value)
    {
        const string field = "acceptWithin";
        // Days and smaller only: a month or a year has no fixed length.
        if (value.Length > AcceptWithinMaxLength || !DurationPattern.IsMatch(value))
        {
            errors.Add(field, "Must be an ISO 8601 duration in days, hours, minutes or seconds, e.g. 'PT4H' or 'P1D'.");
            return null;
        }
        TimeSpan duration;
        try
        {
            duration = XmlConvert.ToTimeSpan(value);
        }
        catch (Exception ex) when (ex is OverflowException or FormatException)
        {
            // The pattern already matched, so only a number too large for a TimeSpan gets here.
            duration = TimeSpan.MaxValue;
        }
        if (duration < AcceptWithinMin || duration > AcceptWithinMax)
        {
            errors.Add(field, $"Must be between {FormatDuration(AcceptWithinMin)} and {FormatDuration(AcceptWithinMax)}.");
            return null;
        }
        return duration;
    }

    private static void CheckOwner(FieldErrors errors, string field, SettingsOwner? owner)
    {
        if (owner is { } value && !Enum.IsDefined(value))
        {
            errors.Add(field, $"Must be '{PartyNames.ThreePl}' or '{PartyNames.Merchant}'.");
        }
    }

    private static void ValidateInternalCustomerId(FieldErrors errors, string id)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            errors.Add("internalCustomerId", "Must not be blank; send an empty string to clear it.");
        }
        Text.Optional(errors, "internalCustomerId", id, InternalCustomerIdMaxLength);
    }

    private static Uri? ParseWebhookUrl(FieldErrors errors, string url)
    {
        const string field = "webhookUrl";
        if (url.Length > WebhookUrlMaxLength)
        {
            errors.Add(field, $"Must be at most {WebhookUrlMaxLength} characters.");
            return null;
        }
        if (Text.HasControlChars(url) || url.Any(char.IsWhiteSpace)
            || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            errors.Add(field, "Must be an absolute URL.");
            return null;
        }
        if (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
        {
            errors.Add(field, "Must be an http or https URL.");
            return null;
        }
        if (uri.UserInfo.Length > 0)
        {
            errors.Add(field, "Must not contain user information.");
            return null;
        }
        return uri;
    }
}

/// <summary>
/// A partial change to <see cref="ConnectionSettings"/> (PATCH semantics): a null member leaves the field as it
/// is; for the two text fields an empty string clears the field.
/// </summary>
/// <param name="ManageOrders">New value, or null to keep.</param>
/// <param name="ShippingRules">New value, or null to keep.</param>
/// <param name="OrderFeeBilledTo">New value, or null to keep.</param>
/// <param name="SupportTickets">New value, or null to keep.</param>
/// <param name="InternalCustomerId">New value, "" to clear, or null to keep.</param>
/// <param name="WebhookUrl">New absolute URL, "" to clear, or null to keep.</param>
/// <param name="AcceptWithin">New ISO 8601 duration, "" to switch the deadline off, or null to keep.</param>
public sealed record ConnectionSettingsChange(
    bool? ManageOrders = null,
    SettingsOwner? ShippingRules = null,
    SettingsOwner? OrderFeeBilledTo = null,
    SettingsOwner? SupportTickets = null,
    string? InternalCustomerId = null,
    string? WebhookUrl = null,
    string? AcceptWithin = null);

/// <summary>The result of <see cref="ConnectionSettings.Apply"/>.</summary>
/// <param name="Settings">The new settings, or the unchanged ones when nothing changed or the change was invalid.</param>
/// <param name="Changed">True when a new version was made.</param>
/// <param name="Errors">Field errors keyed by JSON name (<c>webhookUrl</c>); empty on success.</param>
public sealed record SettingsChangeOutcome(
    ConnectionSettings Settings,
    bool Changed,
    IReadOnlyDictionary<string, string[]> Errors)
{
    /// <summary>True when the change was valid (whether or not it changed anything).</summary>
    public bool Succeeded => Errors.Count == 0;

    /// <summary>The failure as a <see cref="DomainError"/> with code <c>validation_failed</c>, or null on success.</summary>
    public DomainError? Error => Succeeded
        ? null
        : new DomainError(FieldErrors.Code,
            "The settings are invalid: " + string.Join("; ", Errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")));
}

/// <summary>Every field of <see cref="ConnectionSettings"/>, for persistence.</summary>
/// <param name="Version">The version.</param>
/// <param name="ManageOrders">Whether the 3PL receives new orders.</param>
/// <param name="ShippingRules">Whose shipping rules apply.</param>
/// <param name="OrderFeeBilledTo">Who is billed.</param>
/// <param name="SupportTickets">Who handles support tickets.</param>
/// <param name="InternalCustomerId">The 3PL's id for the client.</param>
/// <param name="WebhookUrl">The per-client webhook URL as text.</param>
public sealed record ConnectionSettingsState(
    int Version,
    bool ManageOrders,
    SettingsOwner ShippingRules,
    SettingsOwner OrderFeeBilledTo,
    SettingsOwner SupportTickets,
    string? InternalCustomerId,
    string? WebhookUrl)
{
    /// <summary>The request deadline, if set.</summary>
    public TimeSpan? AcceptWithin { get; init; }
}
