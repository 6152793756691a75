using ThreePL.Domain.Connections;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Connections;

/// <summary>Settings as both parties read them: never the webhook secret, only whether one exists.</summary>
public sealed record ConnectionSettingsResponse(
    string ConnectionId,
    int Version,
    bool ManageOrders,
    string ShippingRules,
    string OrderFeeBilledTo,
    string SupportTickets,
    string? InternalCustomerId,
    string? WebhookUrl,
    bool HasWebhookSecret,
    string? AcceptWithin,
    string? WebhookSecret = null)
{
    public static ConnectionSettingsResponse From(StoredConnection stored, string? newSecret = null)
    {
        var s = stored.Settings;
        return new ConnectionSettingsResponse(
            stored.Connection.Id.Value,
            s.Version,
            s.ManageOrders,
            PartyNames.ToWire(s.ShippingRules),
            PartyNames.ToWire(s.OrderFeeBilledTo),
            PartyNames.ToWire(s.SupportTickets),
            s.InternalCustomerId,
            s.WebhookUrl?.ToString(),
            stored.Secrets.Current is not null,
            s.AcceptWithin is { } within ? ConnectionSettings.FormatDuration(within) : null,
            newSecret);
    }

    public static string ETagOf(ConnectionSettings settings) => $"\"{settings.Version}\"";
}
