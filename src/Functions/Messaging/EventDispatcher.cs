using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Accounts;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Email;

namespace ThreePL.Functions.Messaging;

/// <summary>
/// Consumes the internal <c>events</c> queue and does what each event asks: invitation and reminder
/// e-mails, and the webhook fan-out of every public event. Idempotent by event id: <see cref="SentEmailLog"/> makes an
/// event relayed twice mail once, and the fan-out keys each delivery by (event id, destination).
/// </summary>
public sealed class EventDispatcher(
    ConnectionStore connections,
    AccountStore accounts,
    InvitationEmails invitations,
    IEmailSender email,
    SentEmailLog sentEmails,
    Webhooks.WebhookFanOut webhooks,
    ILogger<EventDispatcher> logger)
{
    [Function("DispatchEvent")]
    public Task RunAsync([QueueTrigger(QueueBinding.Prefix + EventEnvelope.Queue, Connection = QueueBinding.Connection)] Azure.Storage.Queues.Models.QueueMessage message, CancellationToken cancellationToken) =>
        HandleAsync(QueueDelivery.From(message), cancellationToken);

    public async Task HandleAsync(QueueDelivery trigger, CancellationToken cancellationToken)
    {
        var envelope = EventEnvelope.Parse(trigger.MessageText);
        switch (envelope.Type)
        {
            case "connection.invited":
                await SendInvitationAsync(envelope, reminder: false, cancellationToken).ConfigureAwait(false);
                break;
            case EventEnvelope.InvitationReminderType:
                await SendInvitationAsync(envelope, reminder: true, cancellationToken).ConfigureAwait(false);
                break;
        }
        await webhooks.PublishAsync(envelope, redelivered: trigger.DequeueCount > 1, cancellationToken).ConfigureAwait(false);
    }

    private async Task SendInvitationAsync(EventEnvelope envelope, bool reminder, CancellationToken cancellationToken)
    {
        if (!ConnectionId.TryParse(envelope.ConnectionId, out var id)
            || await connections.GetAsync(id, cancellationToken).ConfigureAwait(false) is not { } stored)
        {
            logger.LogWarning("Event {EventId} names no connection; nothing to mail", envelope.Id);
            return;
        }
        var connection = stored.Connection;
        if (connection.Status != ConnectionStatus.Pending)
        {
            return;
        }
        var inviter = await accounts.GetAsync(connection.AccountOf(connection.InvitedBy), cancellationToken).ConfigureAwait(false);
        var invitee = await accounts.GetAsync(connection.AccountOf(connection.Invitee), cancellationToken).ConfigureAwait(false);
        if (inviter is null || invitee is null)
        {
            throw new InvalidOperationException($"Connection {id} names an account that does not exist.");
        }
        if (await sentEmails.TryClaimAsync(envelope.Id, cancellationToken).ConfigureAwait(false) is not { } claim)
        {
            return;
        }
        try
        {
            await email.SendAsync(invitations.Invitation(envelope.Id, connection, inviter, invitee, reminder), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await sentEmails.ReleaseAsync(envelope.Id, claim, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        await sentEmails.MarkSentAsync(envelope.Id, claim, invitee.Email.Value, CancellationToken.None).ConfigureAwait(false);
    }
}
