using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.SupportTickets;

/// <summary><c>GET /v1/orders/{id}/support-tickets</c> (with their messages) and <c>GET /v1/support-tickets/{id}</c>: both sides read.</summary>
public sealed class ListSupportTickets(SupportTicketAccess access, SupportTicketStore store)
{
    public async Task<Results<Ok<Page<SupportTicketResponse>>, ProblemHttpResult>> ListAsync(Caller caller, string orderId, CancellationToken cancellationToken)
    {
        if (await access.FindOrderAsync(caller, orderId, cancellationToken).ConfigureAwait(false) is not { } found)
        {
            return Problems.NotFound("order");
        }
        var tickets = await store.ListAsync(found.Order.Order.Id, cancellationToken).ConfigureAwait(false);
        var items = tickets.Where(t => SupportTicketAccess.Visible(caller, t, found.Order, found.Party)).Select(SupportTicketResponse.For).ToList();
        return TypedResults.Ok(new Page<SupportTicketResponse>(items, null));
    }

    public async Task<Results<Ok<SupportTicketResponse>, ProblemHttpResult>> GetAsync(Caller caller, string id, CancellationToken cancellationToken) =>
        await access.FindTicketAsync(caller, id, cancellationToken).ConfigureAwait(false) is { } found
            ? TypedResults.Ok(SupportTicketResponse.For(found.Ticket))
            : Problems.NotFound("support ticket");
}
