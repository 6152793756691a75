using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Accounts;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Email;
using ThreePL.Functions.Hosting;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Storage.Tables;

namespace ThreePL.Functions.Messaging;

/// <summary>
/// Consumes the internal <c>events</c> queue and does what each event asks: invitation and reminder
/// e-mails, and the webhook fan-out of every public event. Idempotent by event id: an e-mail already sent for an event is not sent again (a marker
/// row in table <c>emails</c>), so an event relayed twice still mails once.
/// </summary>
public sealed class EventDispatcher(
    ConnectionStore connections,
    AccountStore accounts,
    InvitationEmails invitations,
    IEmailSender email,
    Webhooks.WebhookFanOut webhooks,
    TableServiceClient tables,
    StorageNames names,
    ILogger<EventDispatcher> logger) : IQueueFunction
{
    public const string EmailsTable = "emails";

    public string Name => "DispatchEvent";

    public string QueueName => EventEnvelope.Queue;

    public async Task RunAsync(QueueTrigger trigger, CancellationToken cancellationToken)
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
        await webhooks.PublishAsync(envelope, cancellationToken).ConfigureAwait(false);
    }

    private async Task SendInvitationAsync(EventEnvelope envelope, bool reminder, CancellationToken cancellationToken)
    {
        var sent = tables.GetTableClient(names.Table(EmailsTable));
        if (await sent.FindAsync(envelope.Id, "sent", cancellationToken).ConfigureAwait(false) is not null)
        {
            return;
        }
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
        await email.SendAsync(invitations.Invitation(envelope.Id, connection, inviter, invitee, reminder), cancellationToken).ConfigureAwait(false);
        await sent.UpsertEntityAsync(new TableEntity(envelope.Id, "sent") { ["To"] = invitee.Email.Value, ["SentAt"] = DateTimeOffset.UtcNow }, cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
