using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.SupportTickets;

public sealed record AnswerSupportTicketRequest(string? Message);

/// <summary><c>POST /v1/support-tickets/{id}/messages</c>: the handling side adds a message to a ticket of the order's current delegation.</summary>
public sealed class AnswerSupportTicket(SupportTicketAccess access, SupportTicketStore store, TimeProvider time)
{
    public async Task<Results<Created<SupportTicketResponse>, ProblemHttpResult>> HandleAsync(Caller caller, string id, AnswerSupportTicketRequest request, CancellationToken cancellationToken)
    {
        if (await access.FindTicketAsync(caller, id, cancellationToken).ConfigureAwait(false) is not { } found)
        {
            return Problems.NotFound("support ticket");
        }
        if (SupportTicketAccess.CheckWriter(found.Order, found.Party, found.Ticket.ConnectionId) is { } refused)
        {
            return refused;
        }
        var errors = new FieldErrors();
        var message = SupportTicketAccess.Text(errors, "message", request.Message, SupportTicketAccess.MessageMaxLength, allowLineBreaks: true);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }
        var now = time.GetUtcNow();
        var (result, updated) = await store.TryAppendAsync(found.Ticket.Id, n => new TicketMessage(n, found.Party, caller.AccountId, caller.OnBehalfOf, message!, now), now, cancellationToken).ConfigureAwait(false);
        return result switch
        {
            TicketWrite.Done => TypedResults.Created($"/v1/support-tickets/{updated!.Id.Value}", SupportTicketResponse.For(updated)),
            TicketWrite.LimitReached => Problems.Conflict("too_many_messages", $"A ticket holds at most {SupportTicketStore.MaxMessagesPerTicket} messages; open a new ticket."),
            _ => SupportTicketAccess.Contended(),
        };
    }
}
