using ThreePL.Domain.Common;

namespace ThreePL.Domain.Connections;

/// <summary>Something that happened to a connection. Returned by its commands; the app persists them in the outbox.</summary>
/// <param name="ConnectionId">The connection it happened to.</param>
/// <param name="OccurredAt">The <c>now</c> the command ran at.</param>
public abstract record ConnectionEvent(ConnectionId ConnectionId, DateTimeOffset OccurredAt)
{
    /// <summary>The published event type (<c>connection.approved</c>, …).</summary>
    public abstract string Type { get; }
}

/// <summary>An invitation was created; the app e-mails <see cref="InviteeEmail"/> or notifies the invitee account.</summary>
/// <param name="ConnectionId">The connection.</param>
/// <param name="OccurredAt">When.</param>
/// <param name="ThreePlAccountId">The 3PL side.</param>
/// <param name="MerchantAccountId">The merchant side.</param>
/// <param name="InvitedBy">The inviting side.</param>
/// <param name="InviteeEmail">Where the invitation goes, if by e-mail.</param>
/// <param name="ExpiresAt">When the invitation expires.</param>
public sealed record ConnectionInvited(
    ConnectionId ConnectionId,
    DateTimeOffset OccurredAt,
    AccountId ThreePlAccountId,
    AccountId MerchantAccountId,
    Party InvitedBy,
    string? InviteeEmail,
    DateTimeOffset ExpiresAt) : ConnectionEvent(ConnectionId, OccurredAt)
{
    /// <inheritdoc />
    public override string Type => "connection.invited";
}

/// <summary>The invitee approved; the connection is active.</summary>
/// <param name="ConnectionId">The connection.</param>
/// <param name="OccurredAt">When.</param>
/// <param name="ApprovedBy">The invitee account.</param>
public sealed record ConnectionApproved(ConnectionId ConnectionId, DateTimeOffset OccurredAt, AccountId ApprovedBy)
    : ConnectionEvent(ConnectionId, OccurredAt)
{
    /// <inheritdoc />
    public override string Type => "connection.approved";
}

/// <summary>The invitee declined.</summary>
/// <param name="ConnectionId">The connection.</param>
/// <param name="OccurredAt">When.</param>
/// <param name="DeclinedBy">The invitee account.</param>
public sealed record ConnectionDeclined(ConnectionId ConnectionId, DateTimeOffset OccurredAt, AccountId DeclinedBy)
    : ConnectionEvent(ConnectionId, OccurredAt)
{
    /// <inheritdoc />
    public override string Type => "connection.declined";
}

/// <summary>The inviter withdrew the invitation.</summary>
/// <param name="ConnectionId">The connection.</param>
/// <param name="OccurredAt">When.</param>
/// <param name="CancelledBy">The inviter account.</param>
public sealed record ConnectionCancelled(ConnectionId ConnectionId, DateTimeOffset OccurredAt, AccountId CancelledBy)
    : ConnectionEvent(ConnectionId, OccurredAt)
{
    /// <inheritdoc />
    public override string Type => "connection.cancelled";
}

/// <summary>The invitation expired unanswered.</summary>
/// <param name="ConnectionId">The connection.</param>
/// <param name="OccurredAt">When the expiry was recorded.</param>
public sealed record ConnectionExpired(ConnectionId ConnectionId, DateTimeOffset OccurredAt)
    : ConnectionEvent(ConnectionId, OccurredAt)
{
    /// <inheritdoc />
    public override string Type => "connection.expired";
}

/// <summary>
/// A party paused the connection. The app hands back to the merchant every order delegated to it that the 3PL
/// has not started (<c>awaiting_shipment</c>).
/// </summary>
/// <param name="ConnectionId">The connection.</param>
/// <param name="OccurredAt">When.</param>
/// <param name="DeactivatedBy">The acting account.</param>
public sealed record ConnectionDeactivated(ConnectionId ConnectionId, DateTimeOffset OccurredAt, AccountId DeactivatedBy)
    : ConnectionEvent(ConnectionId, OccurredAt)
{
    /// <inheritdoc />
    public override string Type => "connection.deactivated";
}

/// <summary>A party resumed the connection; only new orders route to it again.</summary>
/// <param name="ConnectionId">The connection.</param>
/// <param name="OccurredAt">When.</param>
/// <param name="ReactivatedBy">The acting account.</param>
public sealed record ConnectionReactivated(ConnectionId ConnectionId, DateTimeOffset OccurredAt, AccountId ReactivatedBy)
    : ConnectionEvent(ConnectionId, OccurredAt)
{
    /// <inheritdoc />
    public override string Type => "connection.reactivated";
}

/// <summary>
/// A party ended the connection for good. Like deactivation, the app hands back every unstarted order.
/// </summary>
/// <param name="ConnectionId">The connection.</param>
/// <param name="OccurredAt">When.</param>
/// <param name="DisconnectedBy">The acting account.</param>
public sealed record ConnectionDisconnected(ConnectionId ConnectionId, DateTimeOffset OccurredAt, AccountId DisconnectedBy)
    : ConnectionEvent(ConnectionId, OccurredAt)
{
    /// <inheritdoc />
    public override string Type => "connection.disconnected";
}

/// <summary>The 3PL changed the connection's settings; <paramref name="SettingsVersion"/> is the new version.</summary>
/// <param name="ConnectionId">The connection.</param>
/// <param name="OccurredAt">When.</param>
/// <param name="SettingsVersion">The new settings version.</param>
public sealed record ConnectionSettingsUpdated(ConnectionId ConnectionId, DateTimeOffset OccurredAt, int SettingsVersion)
    : ConnectionEvent(ConnectionId, OccurredAt)
{
    /// <inheritdoc />
    public override string Type => "connection.settings_updated";
}
