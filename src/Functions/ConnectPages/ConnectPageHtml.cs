using System.Net;
using System.Text;

namespace ThreePL.Functions.ConnectPages;

/// <summary>
/// The e-mail link's pages: small, self-contained (no external assets, no scripts), accessible HTML.
/// Everything shown is encoded; nothing from storage or the request reaches the page raw.
/// </summary>
public static class ConnectPageHtml
{
    public sealed record Invitation(
        string InviterName,
        string InviterKind,
        string? CompanyName,
        string InviteeEmail,
        IReadOnlyList<string> Allows,
        DateTimeOffset ExpiresAt,
        bool NeedsAccount,
        string? SuggestedName,
        string? Error);

    public static string Review(Invitation invitation)
    {
        var body = new StringBuilder();
        body.Append("<h1>Connect your account</h1>");
        body.Append("<p><strong>").Append(E(invitation.InviterName)).Append("</strong>");
        if (invitation.CompanyName is { Length: > 0 } company)
        {
            body.Append(" (").Append(E(company)).Append(')');
        }
        body.Append(", a ").Append(E(invitation.InviterKind)).Append(", invites <strong>").Append(E(invitation.InviteeEmail)).Append("</strong> to connect.</p>");
        body.Append("<h2>If you approve</h2><ul>");
        foreach (var line in invitation.Allows)
        {
            body.Append("<li>").Append(E(line)).Append("</li>");
        }
        body.Append("</ul>");
        if (invitation.Error is { } error)
        {
            body.Append("<p class=\"error\" role=\"alert\" id=\"form-error\">").Append(E(error)).Append("</p>");
        }
        body.Append("<form method=\"post\">");
        if (invitation.NeedsAccount)
        {
            body.Append("<fieldset><legend>Your account</legend>")
                .Append("<p>You do not have an account yet. Approving creates it and shows your first API key once.</p>")
                .Append("<label for=\"name\">Company or display name</label>")
                .Append("<input id=\"name\" name=\"name\" type=\"text\" maxlength=\"")
                .Append(ConnectPage.MaxNameLength.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .Append("\" autocomplete=\"organization\" value=\"")
                .Append(E(invitation.SuggestedName ?? "")).Append("\"></fieldset>");
        }
        body.Append("<p class=\"check\"><input type=\"checkbox\" id=\"understood\" name=\"understood\" value=\"on\" required")
            .Append(invitation.Error is null ? "" : " aria-describedby=\"form-error\"")
            .Append("><label for=\"understood\">I understand what this connection allows</label></p>");
        body.Append("<p class=\"actions\"><button type=\"submit\" name=\"decision\" value=\"approve\">Approve connection</button> ")
            .Append("<button type=\"submit\" name=\"decision\" value=\"decline\" class=\"secondary\" formnovalidate>Decline</button></p>");
        body.Append("</form>");
        body.Append("<p class=\"muted\">This invitation expires on ").Append(E(invitation.ExpiresAt.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture))).Append(".</p>");
        return Page("Review the invitation", body.ToString());
    }

    /// <summary>
    /// The page behind the link a 3PL shares with a brand it onboarded. The 3PL has seen that link, so it cannot
    /// approve or activate anything: it sends the brand the link that can, to the brand's own address.
    /// </summary>
    public static string Shared(Invitation invitation, string maskedEmail, bool sent)
    {
        var body = new StringBuilder();
        body.Append("<h1>Connect your account</h1>");
        body.Append("<p><strong>").Append(E(invitation.InviterName)).Append("</strong>, a ").Append(E(invitation.InviterKind))
            .Append(", has set up an account for you and invites you to connect.</p>");
        body.Append("<h2>If you approve</h2><ul>");
        foreach (var line in invitation.Allows)
        {
            body.Append("<li>").Append(E(line)).Append("</li>");
        }
        body.Append("</ul>");
        if (sent)
        {
            body.Append("<p role=\"status\">We have e-mailed a confirmation link to <strong>").Append(E(maskedEmail))
                .Append("</strong>. Open it to review the invitation, approve it and receive your first API key. ")
                .Append("It can take a few minutes to arrive; we send at most one an hour.</p>");
        }
        else
        {
            body.Append("<p>To protect your account, approving and receiving your API key happen through a link we e-mail to <strong>")
                .Append(E(maskedEmail)).Append("</strong>, not through this shared link.</p>")
                .Append("<form method=\"post\"><p class=\"actions\"><button type=\"submit\" name=\"decision\" value=\"send\">E-mail me the confirmation link</button></p></form>");
        }
        body.Append("<p class=\"muted\">This invitation expires on ").Append(E(invitation.ExpiresAt.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture))).Append(".</p>");
        return Page("Confirm by e-mail", body.ToString());
    }

    public static string Approved(string counterpartName, string? apiKey, string? accountId)
    {
        var body = new StringBuilder();
        body.Append("<h1>Connected</h1><p role=\"status\">You are now connected with <strong>").Append(E(counterpartName)).Append("</strong>.</p>");
        if (apiKey is not null)
        {
            body.Append("<h2>Your first API key</h2>")
                .Append("<p>Your account <code>").Append(E(accountId ?? "")).Append("</code> is ready. Copy this key now: it is shown only once and cannot be shown again.</p>")
                .Append("<p><label for=\"api-key\">API key</label><input id=\"api-key\" readonly value=\"").Append(E(apiKey)).Append("\"></p>")
                .Append("<p>Use it as <code>Authorization: Bearer &lt;key&gt;</code>.</p>");
        }
        return Page("Connected", body.ToString());
    }

    public static string Declined(string counterpartName) =>
        Page("Invitation declined", $"<h1>Invitation declined</h1><p role=\"status\">You declined the invitation from <strong>{E(counterpartName)}</strong>. Nothing was connected.</p>");

    public static string Used() =>
        Page("Link already used", "<h1>This link has already been used</h1><p>The invitation was already answered or withdrawn. If you expected to connect, ask for a new invitation.</p>");

    public static string Expired() =>
        Page("Invitation expired", "<h1>This invitation has expired</h1><p>Ask the sender for a new invitation.</p>");

    public static string NotFound() =>
        Page("Link not valid", "<h1>This link is not valid</h1><p>Check that you copied the whole link from the e-mail.</p>");

    private static string E(string value) => WebUtility.HtmlEncode(value);

    private static string Page(string title, string body) =>
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
        "<meta name=\"robots\" content=\"noindex\"><title>" + E(title) + " · ThreePL Connect</title><style>" + Css + "</style></head>" +
        "<body><main>" + body + "</main></body></html>";

    private const string Css =
        "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;background:#f5f6f8;color:#1f2328;margin:0;padding:2rem 1rem;line-height:1.5}" +
        "main{max-width:36rem;margin:0 auto;background:#fff;border:1px solid #d0d7de;border-radius:12px;padding:1.5rem 2rem}" +
        "h1{font-size:1.5rem;margin-top:0}h2{font-size:1.1rem}" +
        "fieldset{border:1px solid #d0d7de;border-radius:8px;margin:1rem 0;padding:.75rem 1rem}" +
        "label{font-weight:600}input[type=text],input[readonly]{display:block;width:100%;box-sizing:border-box;padding:.5rem;margin-top:.25rem;border:1px solid #8c959f;border-radius:6px;font:inherit}" +
        ".check{display:flex;gap:.5rem;align-items:flex-start}.check input{margin-top:.3rem;width:1.1rem;height:1.1rem}" +
        "button{font:inherit;padding:.6rem 1.1rem;border-radius:6px;border:1px solid #1d4ed8;background:#1d4ed8;color:#fff;cursor:pointer}" +
        "button.secondary{background:#fff;color:#1d4ed8}button:focus-visible,input:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}" +
        ".error{color:#b42318;font-weight:600}.muted{color:#57606a;font-size:.9rem}code{background:#f0f2f4;padding:.1rem .3rem;border-radius:4px}";
}
