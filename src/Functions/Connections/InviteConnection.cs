using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Accounts;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Accounts;
using ThreePL.Functions.Audit;
using ThreePL.Functions.Http;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Connections;

public sealed record InviteConnectionRequest(string? Email, string? AccountId, string? ClientName, string? CompanyName);

/// <summary>
/// Either side invites the other, by account id or by e-mail. An e-mail with no account behind it gets a
/// not-yet-activated account of the other kind, which its owner takes over from the approval page, so a
/// connection always joins two real accounts.
/// </summary>
public sealed class InviteConnection(
    AccountStore accounts,
    ConnectionStore store,
    Outbox outbox,
    ConnectTokens tokens,
    UnconnectableInvitee unconnectable,
    ConnectionOptions options,
    TimeProvider time)
{
    public const int MaxClientNameLength = 100;
    public const int MaxCompanyNameLength = 200;

    public async Task<Results<Created<ConnectionResponse>, ProblemHttpResult>> HandleAsync(Caller caller, InviteConnectionRequest request, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var answer = await InviteAsync(caller, request, cancellationToken).ConfigureAwait(false);
        await options.HoldAnswerAsync(time, started, cancellationToken).ConfigureAwait(false);
        return answer;
    }

    private async Task<Results<Created<ConnectionResponse>, ProblemHttpResult>> InviteAsync(Caller caller, InviteConnectionRequest request, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var clientName = errors.Text("clientName", request.ClientName, MaxClientNameLength, required: false);
        var companyName = errors.Text("companyName", request.CompanyName, MaxCompanyNameLength, required: false);
        EmailAddress email = default;
        AccountId accountId = default;
        if ((request.Email is null) == (request.AccountId is null))
        {
            errors.Add(request.Email is null ? "email" : "accountId", "Give exactly one of 'email' and 'accountId'.");
        }
        else if (request.Email is not null && !EmailAddress.TryParse(request.Email, out email))
        {
            errors.Add("email", "Must be a valid e-mail address.");
        }
        else if (request.AccountId is not null && !AccountId.TryParse(request.AccountId, out accountId))
        {
            errors.Add("accountId", "Must be an account id.");
        }
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var counterpartKind = caller.Kind == AccountKind.ThreePl ? AccountKind.Merchant : AccountKind.ThreePl;
        var counterpart = request.AccountId is not null
            ? await accounts.GetAsync(accountId, cancellationToken).ConfigureAwait(false)
                ?? await StandInAsync(caller, accountId, counterpartKind, cancellationToken).ConfigureAwait(false)
            : await FindOrCreateInviteeAsync(email, counterpartKind, cancellationToken).ConfigureAwait(false);
        if (counterpart is null)
        {
            return Problems.Validation("accountId", "No such account.");
        }
        var field = request.AccountId is not null ? "accountId" : "email";
        if (counterpart.Id == caller.AccountId)
        {
            return Problems.Validation(field, "An account cannot connect to itself.");
        }
        var counterpartId = counterpart.Id;
        if (counterpart.Kind != counterpartKind)
        {
            // By id the caller already holds the account; by e-mail the answer must not say the address has one.
            if (request.AccountId is not null)
            {
                return Problems.Validation(field, $"Must be a {AccountKindNames.ToWire(counterpartKind)} account: a connection joins a 3PL and a merchant.");
            }
            counterpartId = unconnectable.StandIn(caller.AccountId, email);
        }

        var now = time.GetUtcNow();
        var (threePl, merchant) = caller.Kind == AccountKind.ThreePl ? (caller.AccountId, counterpartId) : (counterpartId, caller.AccountId);
        var invitedBy = caller.Kind == AccountKind.ThreePl ? Party.ThreePl : Party.Merchant;
        var (connection, invited) = Connection.Invite(ConnectionId.New(), threePl, merchant, invitedBy, counterpart.Email.Value, clientName, companyName, now, options.InvitationTtl, options.InvitationReminderAfter);
        var created = await CreateAsync(connection, invited, ConnectionAccess.Actor(caller), cancellationToken).ConfigureAwait(false);
        return created.Conflict is { } conflict
            ? ConflictProblem(conflict)
            : TypedResults.Created($"/v1/connections/{connection.Id}", ConnectionResponse.For(created.Connection!, caller.AccountId));
    }

    /// <summary>Claims the pair, records membership, then commits the connection with its audit and messages.</summary>
    public async Task<(StoredConnection? Connection, ClaimConflict? Conflict)> CreateAsync(Connection connection, ConnectionInvited invited, AuditActor actor, CancellationToken cancellationToken)
    {
        if (await store.TryClaimPairAsync(connection, cancellationToken).ConfigureAwait(false) is { } conflict)
        {
            return (null, conflict);
        }
        await store.AddMembershipAsync(connection, cancellationToken).ConfigureAwait(false);
        var stored = new StoredConnection(connection, ConnectionSettings.Default, WebhookSecrets.None, ConnectTokens.Hash(tokens.Create(connection.Id)), default);
        var messages = ConnectionMessages.For(stored, [invited], HandBackOptions.DefaultSettle);
        var audit = new[] { AuditRecord.Create(invited.OccurredAt, invited.Type, actor, connection.Id) };
        var armed = await outbox.ArmAsync(ConnectionStore.TableName, connection.Id.Value, cancellationToken).ConfigureAwait(false);
        var etag = await store.CreateAsync(stored, audit, messages, cancellationToken).ConfigureAwait(false);
        if (await outbox.RelayAfterCommitAsync(ConnectionStore.TableName, connection.Id.Value, messages, cancellationToken).ConfigureAwait(false))
        {
            await outbox.DisarmAsync(armed, cancellationToken).ConfigureAwait(false);
        }
        return (stored with { ETag = etag }, null);
    }

    public static ProblemHttpResult ConflictProblem(ClaimConflict conflict) => conflict.Status == ConnectionStatus.Pending
        ? Problems.Conflict("connection_already_pending", "An invitation between these accounts is already pending.", new Dictionary<string, object?> { ["connectionId"] = conflict.HolderId.Value })
        : Problems.Conflict("connection_already_active", "These accounts are already connected.", new Dictionary<string, object?> { ["connectionId"] = conflict.HolderId.Value });

    /// <summary>
    /// The stand-in invitee <paramref name="id"/> as the inviter knows it from an earlier invitation by e-mail: an
    /// account of the kind it invited, not yet activated, at that address. Inviting it by id then answers as for a real
    /// invitee (409 while an invitation is pending, 201 after a cancel), instead of "No such account.". It is recognised
    /// by the pair's last invitation, whose address must give the same stand-in; null for any other id.
    /// </summary>
    private async Task<Account?> StandInAsync(Caller caller, AccountId id, AccountKind kind, CancellationToken cancellationToken)
    {
        var (threePl, merchant) = caller.Kind == AccountKind.ThreePl ? (caller.AccountId, id) : (id, caller.AccountId);
        var holder = await store.GetPairHolderAsync(threePl, merchant, cancellationToken).ConfigureAwait(false);
        return holder?.Connection.InviteeEmail is { } address && EmailAddress.TryParse(address, out var email) && unconnectable.StandIn(caller.AccountId, email) == id
            ? new Account(id, kind, email.Value[..email.Value.IndexOf('@')], email, Activated: false, holder.Connection.CreatedAt)
            : null;
    }

    /// <summary>
    /// The account behind an invited address, created not yet activated when there is none. It is named after the
    /// address, never after anything the inviter typed: the client name is the 3PL's private nickname and the company
    /// name is the inviter's own. The owner names the account when taking it over.
    /// </summary>
    private async Task<Account?> FindOrCreateInviteeAsync(EmailAddress email, AccountKind kind, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await accounts.FindByEmailAsync(email, cancellationToken).ConfigureAwait(false) is { } existing)
            {
                return existing;
            }
            var invitee = new Account(AccountId.New(), kind, email.Value[..email.Value.IndexOf('@')], email, Activated: false, time.GetUtcNow());
            if (await accounts.TryCreateAsync(invitee, null, cancellationToken).ConfigureAwait(false))
            {
                return invitee;
            }
        }
        return null;
    }
}
