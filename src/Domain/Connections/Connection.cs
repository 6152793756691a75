using ThreePL.Domain.Common;

namespace ThreePL.Domain.Connections;

/// <summary>
/// A connection between one 3PL account and one merchant account, and the state machine of its life:
/// <c>pending</c> → <c>active</c> | <c>declined</c> | <c>cancelled</c> | <c>expired</c>; <c>active</c> ↔ <c>inactive</c>;
/// <c>active</c>/<c>inactive</c> → <c>disconnected</c>. Every command either succeeds, bumps <see cref="Version"/>
/// and returns its event, or fails with a <see cref="ConnectionErrors"/> code and changes nothing.
/// </summary>
/// <remarks>
/// Checks run in a fixed order so callers get the most useful answer: a stranger always gets
/// <see cref="ConnectionErrors.NotAParty"/>; then the status (<see cref="ConnectionErrors.InvalidTransition"/>);
/// then the side; then time (<see cref="ConnectionErrors.InvitationExpired"/>: once <see cref="ExpiresAt"/> has
/// passed, a pending invitation can only be expired, even if its workflow has not expired it yet); then confirmation.
/// </remarks>
public sealed class Connection
{
    private Connection(ConnectionState state)
    {
        Id = state.Id;
        ThreePlAccountId = state.ThreePlAccountId;
        MerchantAccountId = state.MerchantAccountId;
        InvitedBy = state.InvitedBy;
        InviteeEmail = state.InviteeEmail;
        ClientName = state.ClientName;
        CompanyName = state.CompanyName;
        Status = state.Status;
        CreatedAt = state.CreatedAt;
        UpdatedAt = state.UpdatedAt;
        ExpiresAt = state.ExpiresAt;
        RemindAt = state.RemindAt;
        StatusChangedBy = state.StatusChangedBy;
        Version = state.Version;
    }

    /// <summary>The connection id.</summary>
    public ConnectionId Id { get; }

    /// <summary>The 3PL side; always known.</summary>
    public AccountId ThreePlAccountId { get; }

    /// <summary>The merchant side; always known (the app creates a not-yet-activated account for a new e-mail).</summary>
    public AccountId MerchantAccountId { get; }

    /// <summary>The side that sent the invitation; the other side is the invitee.</summary>
    public Party InvitedBy { get; }

    /// <summary>The side that was invited.</summary>
    public Party Invitee => InvitedBy == Party.ThreePl ? Party.Merchant : Party.ThreePl;

    /// <summary>The e-mail the invitation was sent to, if it was sent by e-mail.</summary>
    public string? InviteeEmail { get; }

    /// <summary>The 3PL's nickname for the client.</summary>
    public string? ClientName { get; }

    /// <summary>The client's company name as given at invitation.</summary>
    public string? CompanyName { get; }

    /// <summary>The current status; changed only by the transition methods.</summary>
    public ConnectionStatus Status { get; private set; }

    /// <summary>When the invitation was created.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>When the last successful command ran.</summary>
    public DateTimeOffset UpdatedAt { get; private set; }

    /// <summary>When a pending invitation expires (kept after it is answered, for the record).</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>
    /// When a still-pending invitation gets its reminder; null when there is none (the reminder would not come
    /// before expiry). Fixed at invitation, like <see cref="ExpiresAt"/>, so a change of configuration never moves
    /// the timers of invitations already sent.
    /// </summary>
    public DateTimeOffset? RemindAt { get; }

    /// <summary>The account whose command set the current status; null while pending and after expiry.</summary>
    public AccountId? StatusChangedBy { get; private set; }

    /// <summary>The account that deactivated the connection, while it is inactive.</summary>
    public AccountId? DeactivatedBy => Status == ConnectionStatus.Inactive ? StatusChangedBy : null;

    /// <summary>The domain version: 1 at invitation, +1 on every successful command.</summary>
    public long Version { get; private set; }

    /// <summary>
    /// Creates a pending invitation. Arguments are trusted (the app validated the request), so a bad one is a bug
    /// and throws.
    /// </summary>
    /// <param name="id">The new connection's id.</param>
    /// <param name="threePl">The 3PL account.</param>
    /// <param name="merchant">The merchant account; must differ from <paramref name="threePl"/>.</param>
    /// <param name="invitedBy">The inviting side.</param>
    /// <param name="inviteeEmail">The e-mail the invitation goes to, if any.</param>
    /// <param name="clientName">The 3PL's nickname for the client.</param>
    /// <param name="companyName">The client's company name.</param>
    /// <param name="now">The current time.</param>
    /// <param name="ttl">How long the invitation stays open; must be positive.</param>
    /// <param name="reminderAfter">When to remind, after <paramref name="now"/>; none if not before expiry.</param>
    /// <returns>The connection and its <see cref="ConnectionInvited"/> event.</returns>
    public static (Connection Connection, ConnectionInvited Invited) Invite(
        ConnectionId id,
        AccountId threePl,
        AccountId merchant,
        Party invitedBy,
        string? inviteeEmail,
        string? clientName,
        string? companyName,
        DateTimeOffset now,
        TimeSpan ttl,
        TimeSpan reminderAfter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(reminderAfter, TimeSpan.Zero);
        if (threePl == merchant)
        {
            throw new ArgumentException("An account cannot connect to itself.", nameof(merchant));
        }
        var state = new ConnectionState(
            id, threePl, merchant, invitedBy, inviteeEmail, clientName, companyName,
            ConnectionStatus.Pending, now, now, now + ttl,
            reminderAfter < ttl ? now + reminderAfter : null,
            null, 1);
        var connection = Restore(state);
        return (connection, new ConnectionInvited(id, now, threePl, merchant, invitedBy, inviteeEmail, connection.ExpiresAt));
    }

    /// <summary>Rebuilds a connection from stored state; throws <see cref="InvalidOperationException"/> on an impossible state.</summary>
    public static Connection Restore(ConnectionState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        Check(state.Id.Value is not null, "the id is missing");
        Check(state.ThreePlAccountId.Value is not null && state.MerchantAccountId.Value is not null, "an account id is missing");
        Check(state.ThreePlAccountId != state.MerchantAccountId, "both sides are the same account");
        Check(Enum.IsDefined(state.InvitedBy), "invitedBy is undefined");
        Check(Enum.IsDefined(state.Status), "the status is undefined");
        Check(state.Version >= 1, "the version is below 1");
        Check(state.ExpiresAt > state.CreatedAt, "it expires before it was created");
        Check(state.RemindAt is null || (state.RemindAt >= state.CreatedAt && state.RemindAt < state.ExpiresAt),
            "the reminder falls outside the invitation's lifetime");
        var byNobody = state.Status is ConnectionStatus.Pending or ConnectionStatus.Expired;
        Check(byNobody
            ? state.StatusChangedBy is null
            : state.StatusChangedBy == state.ThreePlAccountId || state.StatusChangedBy == state.MerchantAccountId,
            "statusChangedBy does not fit the status");
        return new Connection(state);

        void Check(bool condition, string problem)
        {
            if (!condition)
            {
                throw new InvalidOperationException($"Stored connection {state.Id} is impossible: {problem}.");
            }
        }
    }

    /// <summary>A snapshot of every field, for persistence.</summary>
    public ConnectionState ToState() => new(
        Id, ThreePlAccountId, MerchantAccountId, InvitedBy, InviteeEmail, ClientName, CompanyName,
        Status, CreatedAt, UpdatedAt, ExpiresAt, RemindAt, StatusChangedBy, Version);

    /// <summary>The side <paramref name="account"/> takes in this connection, or null when it is not a party.</summary>
    public Party? PartyOf(AccountId account) =>
        account == ThreePlAccountId ? Party.ThreePl
        : account == MerchantAccountId ? Party.Merchant
        : null;

    /// <summary>The account on side <paramref name="party"/>.</summary>
    public AccountId AccountOf(Party party) => party == Party.ThreePl ? ThreePlAccountId : MerchantAccountId;

    /// <summary>Invitee approves a pending invitation with explicit confirmation → <c>active</c>.</summary>
    public Outcome<ConnectionEvent> Approve(AccountId actor, bool confirmed, DateTimeOffset now)
    {
        if (CheckAnswer(actor, Invitee, ConnectionErrors.NotInvitee, "approved", now) is { } error)
        {
            return Fail(error);
        }
        if (!confirmed)
        {
            return Outcome<ConnectionEvent>.Failure(ConnectionErrors.ConfirmationRequired,
                "Approving needs an explicit confirmation that you understand what this connection allows.");
        }
        return Move(ConnectionStatus.Active, actor, now, new ConnectionApproved(Id, now, actor));
    }

    /// <summary>Invitee declines a pending invitation → <c>declined</c>.</summary>
    public Outcome<ConnectionEvent> Decline(AccountId actor, DateTimeOffset now)
    {
        if (CheckAnswer(actor, Invitee, ConnectionErrors.NotInvitee, "declined", now) is { } error)
        {
            return Fail(error);
        }
        return Move(ConnectionStatus.Declined, actor, now, new ConnectionDeclined(Id, now, actor));
    }

    /// <summary>Inviter withdraws a pending invitation → <c>cancelled</c>.</summary>
    public Outcome<ConnectionEvent> Cancel(AccountId actor, DateTimeOffset now)
    {
        if (CheckAnswer(actor, InvitedBy, ConnectionErrors.NotInviter, "cancelled", now) is { } error)
        {
            return Fail(error);
        }
        return Move(ConnectionStatus.Cancelled, actor, now, new ConnectionCancelled(Id, now, actor));
    }

    /// <summary>Either party pauses an active connection → <c>inactive</c>; the app hands back unstarted orders.</summary>
    public Outcome<ConnectionEvent> Deactivate(AccountId actor, DateTimeOffset now)
    {
        if (CheckParty(actor, "deactivated", ConnectionStatus.Active) is { } error)
        {
            return Fail(error);
        }
        return Move(ConnectionStatus.Inactive, actor, now, new ConnectionDeactivated(Id, now, actor));
    }

    /// <summary>Either party resumes an inactive connection → <c>active</c>.</summary>
    public Outcome<ConnectionEvent> Reactivate(AccountId actor, DateTimeOffset now)
    {
        if (CheckParty(actor, "reactivated", ConnectionStatus.Inactive) is { } error)
        {
            return Fail(error);
        }
        return Move(ConnectionStatus.Active, actor, now, new ConnectionReactivated(Id, now, actor));
    }

    /// <summary>Either party ends an active or inactive connection → <c>disconnected</c> (terminal).</summary>
    public Outcome<ConnectionEvent> Disconnect(AccountId actor, DateTimeOffset now)
    {
        if (CheckParty(actor, "disconnected", ConnectionStatus.Active, ConnectionStatus.Inactive) is { } error)
        {
            return Fail(error);
        }
        return Move(ConnectionStatus.Disconnected, actor, now, new ConnectionDisconnected(Id, now, actor));
    }

    /// <summary>System: a pending invitation at or past <see cref="ExpiresAt"/> → <c>expired</c>.</summary>
    public Outcome<ConnectionEvent> Expire(DateTimeOffset now)
    {
        if (Status != ConnectionStatus.Pending)
        {
            return Fail(InvalidTransition("expired"));
        }
        if (now < ExpiresAt)
        {
            return Outcome<ConnectionEvent>.Failure(ConnectionErrors.NotDue,
                $"The invitation does not expire before {ExpiresAt:O}.");
        }
        return Move(ConnectionStatus.Expired, null, now, new ConnectionExpired(Id, now));
    }

    private DomainError? CheckAnswer(AccountId actor, Party required, string wrongSideCode, string verb, DateTimeOffset now)
    {
        if (CheckParty(actor, verb, ConnectionStatus.Pending) is { } error)
        {
            return error;
        }
        if (PartyOf(actor) != required)
        {
            return wrongSideCode == ConnectionErrors.NotInvitee
                ? new DomainError(wrongSideCode, $"Only the invited side may answer; the connection cannot be {verb} by the inviter.")
                : new DomainError(wrongSideCode, $"Only the inviting side may withdraw the invitation; it cannot be {verb} by the invitee.");
        }
        return now >= ExpiresAt ? Expired() : null;
    }

    private DomainError? CheckParty(AccountId actor, string verb, params ConnectionStatus[] allowed)
    {
        if (PartyOf(actor) is null)
        {
            return new DomainError(ConnectionErrors.NotAParty, "The account is not a party to this connection.");
        }
        return allowed.Contains(Status) ? null : InvalidTransition(verb);
    }

    private DomainError InvalidTransition(string verb) => new(ConnectionErrors.InvalidTransition,
        $"The connection is {ConnectionStatusNames.ToWire(Status)}; it cannot be {verb}.");

    private DomainError Expired() => new(ConnectionErrors.InvitationExpired,
        $"The invitation expired at {ExpiresAt:O}.");

    private static Outcome<ConnectionEvent> Fail(DomainError error) =>
        Outcome<ConnectionEvent>.Failure(error.Code, error.Message);

    private Outcome<ConnectionEvent> Move(ConnectionStatus status, AccountId? actor, DateTimeOffset now, ConnectionEvent @event)
    {
        Status = status;
        StatusChangedBy = actor;
        UpdatedAt = now;
        Version++;
        return Outcome<ConnectionEvent>.Success(@event);
    }
}

/// <summary>Every field of a <see cref="Connection"/>, for persistence; see <see cref="Connection.Restore"/>.</summary>
/// <param name="Id">The connection id.</param>
/// <param name="ThreePlAccountId">The 3PL side.</param>
/// <param name="MerchantAccountId">The merchant side.</param>
/// <param name="InvitedBy">The inviting side.</param>
/// <param name="InviteeEmail">The invitation's e-mail, if any.</param>
/// <param name="ClientName">The 3PL's nickname for the client.</param>
/// <param name="CompanyName">The client's company name.</param>
/// <param name="Status">The status.</param>
/// <param name="CreatedAt">When invited.</param>
/// <param name="UpdatedAt">When last changed.</param>
/// <param name="ExpiresAt">When the invitation expires.</param>
/// <param name="RemindAt">When the pending invitation gets its reminder, if it has one.</param>
/// <param name="StatusChangedBy">The account that set the current status.</param>
/// <param name="Version">The domain version.</param>
public sealed record ConnectionState(
    ConnectionId Id,
    AccountId ThreePlAccountId,
    AccountId MerchantAccountId,
    Party InvitedBy,
    string? InviteeEmail,
    string? ClientName,
    string? CompanyName,
    ConnectionStatus Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? RemindAt,
    AccountId? StatusChangedBy,
    long Version);
