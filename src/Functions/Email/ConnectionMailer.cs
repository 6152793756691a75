using ThreePL.Domain.Connections;
using ThreePL.Functions.Accounts;

namespace ThreePL.Functions.Email;

/// <summary>
/// The connection workflow's e-mails: the invitation, its reminder, and the outcome to the inviter. Each has an id
/// derived from the connection and its kind, claimed in <see cref="SentEmailLog"/> before sending, so a retried or
/// duplicated activity (a worker that died mid-activity, two app instances) mails once.
/// </summary>
public sealed class ConnectionMailer(AccountStore accounts, InvitationEmails templates, IEmailSender email, SentEmailLog sentEmails)
{
    public async Task SendInvitationAsync(Connection connection, bool reminder, CancellationToken cancellationToken)
    {
        var id = (reminder ? "rem_" : "inv_") + connection.Id.Value;
        if (await accounts.GetAsync(connection.AccountOf(connection.Invitee), cancellationToken).ConfigureAwait(false) is null)
        {
            // A stand-in invitee (UnconnectableInvitee): the address learns why nothing can connect, once; no reminder.
            if (!reminder && connection.InviteeEmail is { } address)
            {
                var inviter = await accounts.GetAsync(connection.AccountOf(connection.InvitedBy), cancellationToken).ConfigureAwait(false)
                    ?? throw new InvalidOperationException($"Connection {connection.Id} names an inviter that does not exist.");
                await SendOnceAsync(templates.CannotConnect(id, address, inviter), cancellationToken).ConfigureAwait(false);
            }
            return;
        }
        var (inviterAccount, invitee) = await PartiesAsync(connection, cancellationToken).ConfigureAwait(false);
        await SendOnceAsync(templates.Invitation(id, connection, inviterAccount, invitee, reminder), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends the invitee the mailed link again, asked for from the shared link's page; at most once an hour, so a
    /// shared link cannot be used to flood the address.
    /// </summary>
    /// <returns>False when one went out this hour already.</returns>
    public async Task<bool> SendConfirmationAsync(Connection connection, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var id = $"act_{connection.Id.Value}_{now:yyyyMMddHH}";
        if (await accounts.GetAsync(connection.AccountOf(connection.Invitee), cancellationToken).ConfigureAwait(false) is null && connection.InviteeEmail is { } address)
        {
            // A stand-in invitee (brand onboarding of an address that cannot connect): the address hears why, not a link.
            var standInInviter = await accounts.GetAsync(connection.AccountOf(connection.InvitedBy), cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Connection {connection.Id} names an inviter that does not exist.");
            return await SendOnceAsync(templates.CannotConnect(id, address, standInInviter), cancellationToken).ConfigureAwait(false);
        }
        var (inviter, invitee) = await PartiesAsync(connection, cancellationToken).ConfigureAwait(false);
        return await SendOnceAsync(templates.Invitation(id, connection, inviter, invitee, reminder: false), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Records the invitation of a connection made before the Durable workflow as sent: the engine of that time mailed
    /// it under the id of its <c>connection.invited</c> event, so the workflow that resumes it must not mail it again.
    /// </summary>
    public Task RecordInvitationSentBeforeWorkflowAsync(Connection connection, CancellationToken cancellationToken) =>
        sentEmails.RecordSentAsAsync("inv_" + connection.Id.Value, "connection.invited event", cancellationToken);

    /// <summary>Tells the inviter how its invitation ended; a cancellation was the inviter's own doing and needs no mail.</summary>
    public async Task SendOutcomeAsync(Connection connection, CancellationToken cancellationToken)
    {
        if (connection.Status is not (ConnectionStatus.Active or ConnectionStatus.Declined or ConnectionStatus.Expired))
        {
            return;
        }
        var inviter = await accounts.GetAsync(connection.AccountOf(connection.InvitedBy), cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Connection {connection.Id} names an inviter that does not exist.");
        // A stand-in invitee has no account: the inviter hears about the address it invited, as for any unanswered invitation.
        var invitee = await accounts.GetAsync(connection.AccountOf(connection.Invitee), cancellationToken).ConfigureAwait(false);
        var inviteeEmail = invitee?.Email.Value ?? connection.InviteeEmail ?? "the invited address";
        await SendOnceAsync(templates.Outcome("out_" + connection.Id.Value, connection, inviter, invitee?.Name ?? inviteeEmail, inviteeEmail), cancellationToken).ConfigureAwait(false);
    }

    private async Task<(Account Inviter, Account Invitee)> PartiesAsync(Connection connection, CancellationToken cancellationToken)
    {
        var inviter = await accounts.GetAsync(connection.AccountOf(connection.InvitedBy), cancellationToken).ConfigureAwait(false);
        var invitee = await accounts.GetAsync(connection.AccountOf(connection.Invitee), cancellationToken).ConfigureAwait(false);
        return inviter is null || invitee is null
            ? throw new InvalidOperationException($"Connection {connection.Id} names an account that does not exist.")
            : (inviter, invitee);
    }

    private async Task<bool> SendOnceAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        if (await sentEmails.TryClaimAsync(message.Id, cancellationToken).ConfigureAwait(false) is not { } claim)
        {
            return false;
        }
        try
        {
            await email.SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await sentEmails.ReleaseAsync(message.Id, claim, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        await sentEmails.MarkSentAsync(message.Id, claim, message.To, CancellationToken.None).ConfigureAwait(false);
        return true;
    }
}
