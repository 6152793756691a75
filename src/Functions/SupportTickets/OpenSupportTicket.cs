using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.SupportTickets;

public sealed record OpenSupportTicketRequest(string? Subject, string? Message);

/// <summary><c>POST /v1/orders/{id}/support-tickets</c>: the side the order's snapshot names opens a ticket with a first message.</summary>
public sealed class OpenSupportTicket(SupportTicketAccess access, SupportTicketStore store, TimeProvider time)
{
    public async Task<Results<Created<SupportTicketResponse>, ProblemHttpResult>> HandleAsync(Caller caller, string orderId, OpenSupportTicketRequest request, CancellationToken cancellationToken)
    {
        if (await access.FindOrderAsync(caller, orderId, cancellationToken).ConfigureAwait(false) is not { } found)
        {
            return Problems.NotFound("order");
        }
        if (SupportTicketAccess.CheckWriter(found.Order, found.Party) is { } refused)
        {
            return refused;
        }
        var errors = new FieldErrors();
        var subject = SupportTicketAccess.Text(errors, "subject", request.Subject, SupportTicketAccess.SubjectMaxLength, allowLineBreaks: false);
        var message = SupportTicketAccess.Text(errors, "message", request.Message, SupportTicketAccess.MessageMaxLength, allowLineBreaks: true);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }
        var now = time.GetUtcNow();
        var order = found.Order.Order;
        var ticket = new SupportTicket(TicketId.New(), order.Id, order.ConnectionId!.Value, subject!, found.Party, 1, now, now, [], default);
        var first = new TicketMessage(1, found.Party, caller.AccountId, caller.OnBehalfOf, message!, now);
        switch (await store.TryOpenAsync(ticket, first, cancellationToken).ConfigureAwait(false))
        {
            case TicketWrite.LimitReached:
                return Problems.Conflict("too_many_tickets", $"An order can have at most {SupportTicketStore.MaxTicketsPerOrder} support tickets; answer an existing one.");
            case TicketWrite.Contended:
                return SupportTicketAccess.Contended();
        }
        var response = SupportTicketResponse.For(ticket with { Messages = [first] });
        return TypedResults.Created($"/v1/support-tickets/{ticket.Id.Value}", response);
    }
}
