using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;

namespace ThreePL.Functions.Connections;

public sealed record ConnectionResponse(
    string Id,
    string Status,
    string ThreePlAccountId,
    string MerchantAccountId,
    string InvitedBy,
    string? InviteeEmail,
    string? ClientName,
    string? CompanyName,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? ExpiresAt,
    int SettingsVersion,
    bool ManageOrders,
    long Version)
{
    /// <summary>
    /// The client name is the 3PL's own nickname for the client (ShipStation: "only used inside the 3PL
    /// account"), so only the 3PL's own view carries it; the company name is what the merchant sees.
    /// </summary>
    public static ConnectionResponse For(StoredConnection stored, AccountId viewer)
    {
        var c = stored.Connection;
        var clientName = viewer == c.ThreePlAccountId ? c.ClientName : null;
        return new ConnectionResponse(
            c.Id.Value,
            ConnectionStatusNames.ToWire(c.Status),
            c.ThreePlAccountId.Value,
            c.MerchantAccountId.Value,
            PartyNames.ToWire(c.InvitedBy),
            c.InviteeEmail,
            clientName,
            c.CompanyName,
            c.CreatedAt,
            c.UpdatedAt,
            c.Status == ConnectionStatus.Pending ? c.ExpiresAt : null,
            stored.Settings.Version,
            stored.Settings.ManageOrders,
            c.Version);
    }
}
