using System.Diagnostics.CodeAnalysis;

namespace ThreePL.Domain.Connections;

/// <summary>Where a connection is in its life cycle.</summary>
public enum ConnectionStatus
{
    /// <summary>Invited, waiting for the invitee to approve or decline.</summary>
    Pending,

    /// <summary>Approved; orders flow.</summary>
    Active,

    /// <summary>Paused by either party; can be reactivated.</summary>
    Inactive,

    /// <summary>The invitee declined (terminal).</summary>
    Declined,

    /// <summary>The inviter withdrew the invitation (terminal).</summary>
    Cancelled,

    /// <summary>Nobody answered before the invitation expired (terminal).</summary>
    Expired,

    /// <summary>Ended by either party after it was approved (terminal).</summary>
    Disconnected,
}

/// <summary>Classifies <see cref="ConnectionStatus"/> values.</summary>
public static class ConnectionStatusExtensions
{
    /// <summary>Pending, active or inactive: at most one open connection may exist per pair.</summary>
    public static bool IsOpen(this ConnectionStatus status) =>
        status is ConnectionStatus.Pending or ConnectionStatus.Active or ConnectionStatus.Inactive;

    /// <summary>Declined, cancelled, expired or disconnected: no transition leaves these.</summary>
    public static bool IsTerminal(this ConnectionStatus status) =>
        status is ConnectionStatus.Declined or ConnectionStatus.Cancelled
            or ConnectionStatus.Expired or ConnectionStatus.Disconnected;
}

/// <summary>The lower-case wire names of <see cref="ConnectionStatus"/> (<c>pending</c>, <c>active</c>, …).</summary>
public static class ConnectionStatusNames
{
    private static readonly Dictionary<ConnectionStatus, string> ToName = new()
    {
        [ConnectionStatus.Pending] = "pending",
        [ConnectionStatus.Active] = "active",
        [ConnectionStatus.Inactive] = "inactive",
        [ConnectionStatus.Declined] = "declined",
        [ConnectionStatus.Cancelled] = "cancelled",
        [ConnectionStatus.Expired] = "expired",
        [ConnectionStatus.Disconnected] = "disconnected",
    };

    private static readonly Dictionary<string, ConnectionStatus> FromName =
        ToName.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);

    /// <summary>Every wire name, in declaration order.</summary>
    public static IReadOnlyCollection<string> All => ToName.Values;

    /// <summary>The wire name of <paramref name="status"/>; throws for an undefined value.</summary>
    public static string ToWire(ConnectionStatus status) =>
        ToName.TryGetValue(status, out var name)
            ? name
            : throw new ArgumentOutOfRangeException(nameof(status), status, "Undefined connection status.");

    /// <summary>Parses a wire name exactly (case-sensitive); false for anything else.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out ConnectionStatus status)
    {
        if (value is not null && FromName.TryGetValue(value, out status))
        {
            return true;
        }
        status = default;
        return false;
    }
}
