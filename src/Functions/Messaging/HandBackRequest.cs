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
