namespace ThreePL.Functions.Messaging;

/// <summary>
/// Asks for a connection's unstarted orders to be handed back to the merchant (queue <c>order-handbacks</c>), one page
/// at a time from <see cref="Cursor"/>. Connections sends it when a connection is deactivated or disconnected; Orders
/// reads it. A contract of its own, so neither feature depends on the other's internals.
/// </summary>
public sealed record HandBackRequest(string ConnectionId, string? Cursor = null)
{
    public const string Queue = "order-handbacks";
}

/// <summary>
/// A deactivation's hand-back runs twice: at once, and again <see cref="Settle"/> later. The second run catches an
/// order whose delegation read the connection as active just before the deactivation and committed after the first
/// run had looked. Routing skips its own re-read of the connection after a delegation when the delegation, from its
/// read of the connection to its last list-row write, took at most <see cref="DelegationWindow"/> (half the settle
/// time): such a delegation either read the connection after the deactivation (and refused) or finished before the
/// second run looked (and is handed back by it). Instance clocks must agree to within that half; a slower delegation
/// reads the connection again itself.
/// </summary>
public sealed record HandBackOptions(TimeSpan Settle)
{
    public static readonly TimeSpan DefaultSettle = TimeSpan.FromMinutes(2);

    public TimeSpan DelegationWindow => Settle / 2;

    public static HandBackOptions FromConfiguration(IConfiguration configuration)
    {
        var settle = configuration.GetValue<TimeSpan?>("ThreePL:Orders:HandbackSettle") ?? DefaultSettle;
        return new(settle < TimeSpan.FromSeconds(2) ? TimeSpan.FromSeconds(2) : settle > TimeSpan.FromHours(1) ? TimeSpan.FromHours(1) : settle);
    }
}
