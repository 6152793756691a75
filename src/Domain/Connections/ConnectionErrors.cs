namespace ThreePL.Domain.Connections;

/// <summary>The stable codes of the rule failures a connection command can return.</summary>
public static class ConnectionErrors
{
    /// <summary>The command is not allowed in the connection's current status (HTTP 409).</summary>
    public const string InvalidTransition = "invalid_transition";

    /// <summary>Approval needs an explicit confirmation (HTTP 400).</summary>
    public const string ConfirmationRequired = "confirmation_required";

    /// <summary>The invitation is past its expiry time, even if its workflow has not expired it yet (HTTP 409).</summary>
    public const string InvitationExpired = "invitation_expired";

    /// <summary>Only the invited side may approve or decline (HTTP 403).</summary>
    public const string NotInvitee = "not_invitee";

    /// <summary>Only the inviting side may cancel (HTTP 403).</summary>
    public const string NotInviter = "not_inviter";

    /// <summary>The actor is neither party; the app answers 404 so the connection's existence is not revealed.</summary>
    public const string NotAParty = "not_a_party";

    /// <summary>The system command came too early (expiry before <c>ExpiresAt</c>: a durable timer may fire a moment early).</summary>
    public const string NotDue = "not_due";

    /// <summary>Settings input failed validation; field errors accompany it (HTTP 400).</summary>
    public const string ValidationFailed = Common.FieldErrors.Code;
}
