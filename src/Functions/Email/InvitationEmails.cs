using System.Net;
using ThreePL.Domain.Accounts;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Accounts;
using ThreePL.Functions.Connections;

namespace ThreePL.Functions.Email;

/// <summary>
/// The invitation and reminder e-mails: who invites, what approving allows, and the approval link. The
/// link's token is derived again here from the signing key, so it never rests in storage.
/// </summary>
public sealed class InvitationEmails(ConnectTokens tokens, ConnectionOptions options)
{
    public EmailMessage Invitation(string messageId, Connection connection, Account inviter, Account invitee, bool reminder)
    {
        var link = options.ConnectLink(tokens.Create(connection.Id));
        var inviterKind = inviter.Kind == AccountKind.ThreePl ? "3PL (logistics provider)" : "online shop";
        var company = connection.CompanyName is { } c && connection.InvitedBy == Party.ThreePl ? $" ({c})" : "";
        var subject = (reminder ? "Reminder: " : "") + $"{inviter.Name} invites you to connect on ThreePL Connect";
        var allows = Allows(inviter.Kind);
        var expires = connection.ExpiresAt.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture);
        var activation = invitee.Activated ? "" : "You do not have an account yet: the page lets you create it and shows your first API key.\n";
        var text =
            $"{inviter.Name}{company}, a {inviterKind}, invites {invitee.Email} to connect accounts.\n\n" +
            $"If you approve:\n- {string.Join("\n- ", allows)}\n\n" +
            activation +
            $"Review and approve or decline: {link}\n\nThe invitation expires on {expires}. If you did not expect it, ignore this e-mail.\n";
        static string Html(string? value) => WebUtility.HtmlEncode(value ?? "");
        var html =
            $"<!doctype html><html lang=\"en\"><body style=\"font-family:system-ui,sans-serif;max-width:560px\">" +
            $"<p><strong>{Html(inviter.Name)}</strong>{Html(company)}, a {Html(inviterKind)}, invites {Html(invitee.Email.Value)} to connect accounts.</p>" +
            $"<p>If you approve:</p><ul>{string.Concat(allows.Select(a => $"<li>{Html(a)}</li>"))}</ul>" +
            (invitee.Activated ? "" : $"<p>{Html(activation.Trim())}</p>") +
            $"<p><a href=\"{Html(link)}\" style=\"display:inline-block;padding:10px 16px;background:#1d4ed8;color:#fff;text-decoration:none;border-radius:6px\">Review the invitation</a></p>" +
            $"<p>The invitation expires on {Html(expires)}. If you did not expect it, ignore this e-mail.</p></body></html>";
        return new EmailMessage(messageId, invitee.Email.Value, subject, text, html);
    }

    /// <summary>
    /// To an address whose account cannot be the counterpart of the inviter (the inviter was told nothing, so that
    /// invitations cannot probe which addresses have accounts): who tried, and why nothing can connect.
    /// </summary>
    public EmailMessage CannotConnect(string messageId, string address, Account inviter)
    {
        var inviterKind = inviter.Kind == AccountKind.ThreePl ? "3PL (logistics provider)" : "online shop";
        var needed = inviter.Kind == AccountKind.ThreePl ? "an online shop (merchant) account" : "a 3PL account";
        var sentence = $"{inviter.Name}, a {inviterKind}, invited {address} to connect accounts on ThreePL Connect. " +
            $"The account at this address cannot accept: a connection joins a 3PL and a merchant, and it needs {needed}. Nothing was connected; " +
            "if you expected this, ask the sender to invite another address.";
        var html = $"<!doctype html><html lang=\"en\"><body style=\"font-family:system-ui,sans-serif;max-width:560px\"><p>{WebUtility.HtmlEncode(sentence)}</p></body></html>";
        return new EmailMessage(messageId, address, $"{inviter.Name} tried to connect with you on ThreePL Connect", sentence + "\n", html);
    }

    /// <summary>How the inviter's invitation ended: approved, declined or expired unanswered.</summary>
    public EmailMessage Outcome(string messageId, Connection connection, Account inviter, string inviteeName, string inviteeEmail)
    {
        var (subject, sentence) = connection.Status switch
        {
            ConnectionStatus.Active => ($"{inviteeName} approved your invitation", $"{inviteeName} ({inviteeEmail}) approved your invitation; the connection is active."),
            ConnectionStatus.Declined => ($"{inviteeName} declined your invitation", $"{inviteeName} ({inviteeEmail}) declined your invitation."),
            ConnectionStatus.Expired => ($"Your invitation to {inviteeEmail} expired", $"Your invitation to {inviteeEmail} expired unanswered; you can invite again at any time."),
            _ => throw new ArgumentException($"Connection {connection.Id} has no outcome to report.", nameof(connection)),
        };
        var text = $"{sentence}\n\nConnection: {connection.Id}\n";
        var html = $"<!doctype html><html lang=\"en\"><body style=\"font-family:system-ui,sans-serif;max-width:560px\"><p>{WebUtility.HtmlEncode(sentence)}</p>" +
            $"<p>Connection: {WebUtility.HtmlEncode(connection.Id.Value)}</p></body></html>";
        return new EmailMessage(messageId, inviter.Email.Value, subject, text, html);
    }

    /// <summary>What approving means, from the invitee's side.</summary>
    public static string[] Allows(AccountKind inviterKind) => inviterKind == AccountKind.ThreePl
        ? [
            "the 3PL receives your new orders for fulfilment (you can turn this off per connection),",
            "the 3PL sees those orders with your notes, ships them and reports tracking back to you,",
            "the 3PL may use your carrier accounts if the connection settings say so,",
            "you see the 3PL's stock counts for your products,",
            "either side can deactivate or disconnect at any time; orders not yet started come back to you.",
        ]
        : [
            "you receive this shop's new orders for fulfilment,",
            "you ship them and report tracking back to the shop,",
            "you decide the connection settings (shipping rules, order fee, support tickets, webhook),",
            "either side can deactivate or disconnect at any time; orders not yet started go back to the shop.",
        ];
}
