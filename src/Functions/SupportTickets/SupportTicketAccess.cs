using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Http;
using ThreePL.Functions.Orders;

namespace ThreePL.Functions.SupportTickets;

public sealed record TicketMessageResponse(int Number, string Author, string AuthorAccountId, string? OnBehalfOfAccountId, string Message, DateTimeOffset At);

public sealed record SupportTicketResponse(
    string Id, string OrderId, string ConnectionId, string Subject, string OpenedBy, int MessageCount,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, IReadOnlyList<TicketMessageResponse> Messages)
{
    public static SupportTicketResponse For(SupportTicket t) => new(
        t.Id.Value, t.OrderId.Value, t.ConnectionId.Value, t.Subject, PartyNames.ToWire(t.OpenedBy), t.MessageCount, t.CreatedAt, t.UpdatedAt,
        t.Messages.Select(m => new TicketMessageResponse(m.Number, PartyNames.ToWire(m.Author), m.AuthorAccountId.Value, m.OnBehalfOfAccountId?.Value, m.Text, m.At)).ToList());
}

/// <summary>
/// Who sees and who writes carrier support tickets. Reading follows the order: whoever can see the order (the
/// merchant; the 3PL while the order is delegated to its connection) sees its tickets, except that a 3PL and any
/// caller scoped to a connection see only the tickets of that connection, never those of a connection the order was
/// handed back from (<see cref="Visible"/>). Writing (open,
/// answer) needs the order to be delegated, to the ticket's connection for an answer, and the caller to be the
/// side the order's settings snapshot names in <c>supportTickets</c>; the other side gets 403
/// <c>support_tickets_handled_by_other_party</c>. A handed-back order has no snapshot, so nobody writes.
/// </summary>
public sealed class SupportTicketAccess(OrderAccess orders, OrderStore orderStore, SupportTicketStore tickets)
{
    public const int SubjectMaxLength = 200;
    public const int MessageMaxLength = 2000;

    public Task<(StoredOrder Order, Party Party)?> FindOrderAsync(Caller caller, string orderId, CancellationToken cancellationToken) =>
        orders.FindAsync(caller, orderId, cancellationToken);

    /// <summary>The ticket, the order and the caller's side, or null (404) when the caller may not see the ticket.</summary>
    public async Task<(SupportTicket Ticket, StoredOrder Order, Party Party)?> FindTicketAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        if (!TicketId.TryParse(id, out var ticketId) || await tickets.GetAsync(ticketId, cancellationToken).ConfigureAwait(false) is not { } ticket)
        {
            return null;
        }
        var order = await orderStore.GetAsync(ticket.OrderId, cancellationToken).ConfigureAwait(false);
        if (order is null || OrderAccess.PartyOf(caller, order) is not { } party || !Visible(caller, ticket, order, party))
        {
            return null;
        }
        return (ticket, order, party);
    }

    /// <summary>
    /// The merchant's unscoped callers see every ticket of the order; a 3PL, a key scoped to a connection and a brand
    /// token see only the tickets of the connection they act for, never those the merchant opened with another 3PL.
    /// </summary>
    public static bool Visible(Caller caller, SupportTicket ticket, StoredOrder order, Party party) =>
        caller.Scope is { } scope ? ticket.ConnectionId == scope
            : party == Party.Merchant || ticket.ConnectionId == order.Order.ConnectionId;

    /// <summary>Null when <paramref name="party"/> may write tickets on the order (of <paramref name="connection"/>, when given).</summary>
    public static ProblemHttpResult? CheckWriter(StoredOrder order, Party party, ConnectionId? connection = null)
    {
        if (order.Order.Delegation is not { } delegation || (connection is { } c && c != delegation.ConnectionId))
        {
            return Problems.Conflict(connection is null ? "order_not_delegated" : "ticket_closed", connection is null
                ? "Support tickets are opened on orders delegated to a 3PL; this order is with the merchant."
                : "The order is no longer delegated to the connection this ticket belongs to; the ticket can be read, not answered.");
        }
        var handler = delegation.SupportTickets == SettingsOwner.ThreePl ? Party.ThreePl : Party.Merchant;
        return handler == party
            ? null
            : Problems.Forbidden("support_tickets_handled_by_other_party",
                $"Under this order's settings the {PartyNames.ToWire(handler)} opens and answers carrier support tickets; the {PartyNames.ToWire(party)} can read them.");
    }

    public static ProblemHttpResult Contended() =>
        Problems.Conflict("concurrent_update", "Too many concurrent writes to this ticket; try again.");

    /// <summary>A required text of 1..<paramref name="max"/> characters; line breaks only where allowed.</summary>
    public static string? Text(FieldErrors errors, string field, string? value, int max, bool allowLineBreaks)
    {
        if (!allowLineBreaks)
        {
            return errors.Text(field, value, max);
        }
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add(field, "This field is required.");
            return null;
        }
        var trimmed = value.Trim();
        if (trimmed.Length > max)
        {
            errors.Add(field, $"Must be at most {max} characters.");
        }
        else if (trimmed.Any(c => char.IsControl(c) && c is not ('\r' or '\n' or '\t')))
        {
            errors.Add(field, "Must not contain control characters other than line breaks and tabs.");
        }
        return trimmed;
    }
}
