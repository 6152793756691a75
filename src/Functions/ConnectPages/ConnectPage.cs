using System.Text.Json;
using ThreePL.Domain.Accounts;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Accounts;
using ThreePL.Functions.ApiKeys;
using ThreePL.Functions.Audit;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Email;

namespace ThreePL.Functions.ConnectPages;

/// <summary>
/// <c>/connect/{token}</c>, the link in the invitation e-mail and the brand login link. GET only shows
/// (mail scanners prefetch links); POST decides. A not-yet-activated invitee account is taken over here:
/// approving activates it and shows its first API key once — but only through the mailed link, which proves control
/// of the account's address. The shared link a 3PL got from brand onboarding has been seen by the 3PL, so its page
/// only has the mailed link sent to the brand's address (<see cref="LinkKind"/>). If the process dies between
/// approving and activating, the mailed link still activates the account afterwards: it counts as used only once
/// both are done. Activation is audited in the account's trail.
/// </summary>
public sealed class ConnectPage(ConnectionStore connections, AccountStore accounts, ConnectionCommands commands, ConnectTokens tokens, Email.ConnectionMailer mailer, TimeProvider time)
{
    public const int MaxNameLength = 200;

    public async Task<IResult> ShowAsync(string token, CancellationToken cancellationToken)
    {
        var context = await LoadAsync(token, cancellationToken).ConfigureAwait(false);
        return context switch
        {
            null => Html(ConnectPageHtml.NotFound(), StatusCodes.Status404NotFound),
            { Kind: LinkKind.Shared } c when !c.SharedLinkStillUseful => Html(ConnectPageHtml.Used(), StatusCodes.Status410Gone),
            { Kind: LinkKind.Shared } c when c.Stored.Connection.ExpiresAt <= time.GetUtcNow() => Html(ConnectPageHtml.Expired(), StatusCodes.Status410Gone),
            { Kind: LinkKind.Shared } c => Html(ConnectPageHtml.Shared(Invitation(c, null), Masked(c.Invitee.Email.Value), sent: false)),
            { Stored.Connection.Status: ConnectionStatus.Pending } c when c.Stored.Connection.ExpiresAt <= time.GetUtcNow() =>
                Html(ConnectPageHtml.Expired(), StatusCodes.Status410Gone),
            { Stored.Connection.Status: ConnectionStatus.Pending } or { NeedsActivationAfterApproval: true } => Html(ConnectPageHtml.Review(Invitation(context, null))),
            { Stored.Connection.Status: ConnectionStatus.Expired } => Html(ConnectPageHtml.Expired(), StatusCodes.Status410Gone),
            _ => Html(ConnectPageHtml.Used(), StatusCodes.Status410Gone),
        };
    }

    public async Task<IResult> DecideAsync(string token, IFormCollection form, CancellationToken cancellationToken)
    {
        var context = await LoadAsync(token, cancellationToken).ConfigureAwait(false);
        if (context is null)
        {
            return Html(ConnectPageHtml.NotFound(), StatusCodes.Status404NotFound);
        }
        if (context.Kind == LinkKind.Shared)
        {
            return await SendConfirmationAsync(context, cancellationToken).ConfigureAwait(false);
        }
        var decision = form["decision"].ToString();
        var name = form["name"].ToString().Trim();
        if (decision is not ("approve" or "decline"))
        {
            return Html(ConnectPageHtml.Review(Invitation(context, "Choose Approve or Decline.")), StatusCodes.Status400BadRequest);
        }
        if (decision == "approve" && form["understood"].ToString() != "on")
        {
            return Html(ConnectPageHtml.Review(Invitation(context, "Tick “I understand what this connection allows” to approve.")), StatusCodes.Status400BadRequest);
        }
        if (decision == "approve" && !context.Invitee.Activated && (name.Length > MaxNameLength || name.Any(char.IsControl)))
        {
            return Html(ConnectPageHtml.Review(Invitation(context, $"The name must be at most {MaxNameLength} characters.")), StatusCodes.Status400BadRequest);
        }

        var connection = context.Stored.Connection;
        var invitee = context.Invitee.Id;
        var actor = new AuditActor(invitee, null, null);
        if (!context.NeedsActivationAfterApproval)
        {
            var result = await commands.TransitionAsync(connection.Id, actor,
                (c, now) => decision == "approve" ? c.Approve(invitee, confirmed: true, now) : c.Decline(invitee, now), cancellationToken).ConfigureAwait(false);
            if (result.Error is { } error)
            {
                return error.Code == ConnectionErrors.InvitationExpired
                    ? Html(ConnectPageHtml.Expired(), StatusCodes.Status410Gone)
                    : Html(ConnectPageHtml.Used(), StatusCodes.Status410Gone);
            }
        }
        if (decision == "decline")
        {
            return Html(ConnectPageHtml.Declined(context.Inviter.Name));
        }
        string? apiKey = null;
        if (!context.Invitee.Activated)
        {
            apiKey = await ActivateAsync(context.Invitee.Id, connection.Id, name, cancellationToken).ConfigureAwait(false);
            if (apiKey is null)
            {
                return Html(ConnectPageHtml.Used(), StatusCodes.Status410Gone);
            }
        }
        return Html(ConnectPageHtml.Approved(context.Inviter.Name, apiKey, apiKey is null ? null : invitee.Value));
    }

    /// <summary>The shared link's one action: the mailed link goes to the brand's address again (at most hourly).</summary>
    private async Task<IResult> SendConfirmationAsync(PageContext context, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (!context.SharedLinkStillUseful)
        {
            return Html(ConnectPageHtml.Used(), StatusCodes.Status410Gone);
        }
        if (context.Stored.Connection.ExpiresAt <= now)
        {
            return Html(ConnectPageHtml.Expired(), StatusCodes.Status410Gone);
        }
        if (await mailer.SendConfirmationAsync(context.Stored.Connection, now, cancellationToken).ConfigureAwait(false))
        {
            var audit = AuditRecord.Create(now, AuditActions.ActivationLinkRequested, new AuditActor(context.Invitee.Id, null, null), context.Stored.Connection.Id);
            await connections.AppendAuditAsync(context.Stored.Connection.Id, audit, cancellationToken).ConfigureAwait(false);
        }
        return Html(ConnectPageHtml.Shared(Invitation(context, null), Masked(context.Invitee.Email.Value), sent: true));
    }

    /// <summary>Enough of the address for its owner to recognise it: the first character and the domain.</summary>
    private static string Masked(string email)
    {
        var at = email.IndexOf('@');
        return at <= 1 ? "•••" + email[Math.Max(at, 0)..] : email[0] + "•••" + email[at..];
    }

    private async Task<string?> ActivateAsync(AccountId accountId, ConnectionId connection, string name, CancellationToken cancellationToken)
    {
        if (await accounts.GetWithETagAsync(accountId, cancellationToken).ConfigureAwait(false) is not { Account: var account, ETag: var etag } || account.Activated)
        {
            return null;
        }
        var keyId = ApiKeyId.New();
        var (token, hash) = ApiKeySecret.Create(account.Id, keyId);
        var key = new ApiKeyRecord(account.Id, keyId, account.Kind, "default", PermissionSet.Everything, null, hash, true, time.GetUtcNow(), null);
        var renamed = name.Length > 0 ? account with { Name = name } : account;
        var audit = AuditRecord.Create(time.GetUtcNow(), AuditActions.AccountActivated, new AuditActor(account.Id, null, null), connection,
            after: JsonSerializer.Serialize(new { activated = true, proof = "connect link e-mailed to the account's address" }));
        return await accounts.TryActivateAsync(renamed, etag, key, audit, cancellationToken).ConfigureAwait(false) ? token : null;
    }

    private async Task<PageContext?> LoadAsync(string token, CancellationToken cancellationToken)
    {
        if (!ConnectTokens.TryParse(token, out var id)
            || tokens.KindOf(token, id) is not { } kind
            || await connections.GetAsync(id, cancellationToken).ConfigureAwait(false) is not { } stored
            || (kind == LinkKind.Mailed && !ConnectTokens.Matches(token, stored.TokenHash)))
        {
            return null;
        }
        var connection = stored.Connection;
        var inviter = await accounts.GetAsync(connection.AccountOf(connection.InvitedBy), cancellationToken).ConfigureAwait(false);
        var invitee = await accounts.GetAsync(connection.AccountOf(connection.Invitee), cancellationToken).ConfigureAwait(false);
        if (invitee is null && kind == LinkKind.Shared && inviter is not null && EmailAddress.TryParse(connection.InviteeEmail, out var address))
        {
            // A stand-in invitee from brand onboarding (UnconnectableInvitee): its shared link's page answers as for any
            // brand, and its one action mails the address why nothing can connect. Its mailed link is never sent.
            var kindOfInvitee = inviter.Kind == AccountKind.ThreePl ? AccountKind.Merchant : AccountKind.ThreePl;
            invitee = new Account(connection.AccountOf(connection.Invitee), kindOfInvitee, address.Value[..address.Value.IndexOf('@')], address, Activated: false, connection.CreatedAt);
        }
        return inviter is null || invitee is null ? null : new PageContext(stored, inviter, invitee, kind);
    }

    private static ConnectPageHtml.Invitation Invitation(PageContext context, string? error) => new(
        context.Inviter.Name,
        context.Inviter.Kind == AccountKind.ThreePl ? "3PL (logistics provider)" : "online shop",
        context.Stored.Connection.InvitedBy == Party.ThreePl ? context.Stored.Connection.CompanyName : null,
        context.Invitee.Email.Value,
        InvitationEmails.Allows(context.Inviter.Kind),
        context.Stored.Connection.ExpiresAt,
        !context.Invitee.Activated,
        context.Invitee.Name,
        error);

    /// <summary>Link pages must never be cached or framed: they show one-time secrets.</summary>
    private static IResult Html(string html, int status = StatusCodes.Status200OK) => new HtmlResult(html, status);

    private sealed record PageContext(StoredConnection Stored, Account Inviter, Account Invitee, LinkKind Kind)
    {
        public bool NeedsActivationAfterApproval => Stored.Connection.Status == ConnectionStatus.Active && !Invitee.Activated;

        /// <summary>
        /// A shared link helps while the invitation is open. It answers alike whether the address had an account before
        /// (brand onboarding of an existing merchant) or not, so the 3PL holding it learns nothing from it.
        /// </summary>
        public bool SharedLinkStillUseful => Stored.Connection.Status == ConnectionStatus.Pending;
    }

    private sealed class HtmlResult(string html, int status) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            httpContext.Response.ContentType = "text/html; charset=utf-8";
            httpContext.Response.Headers.CacheControl = "no-store";
            httpContext.Response.Headers["X-Frame-Options"] = "DENY";
            httpContext.Response.Headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";
            httpContext.Response.Headers["Referrer-Policy"] = "no-referrer";
            return httpContext.Response.WriteAsync(html);
        }
    }
}
