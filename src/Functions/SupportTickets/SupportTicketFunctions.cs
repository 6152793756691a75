using ThreePL.Functions.Http;

namespace ThreePL.Functions.SupportTickets;

public sealed class SupportTicketFunctions(HttpApi api, OpenSupportTicket open, ListSupportTickets list, AnswerSupportTicket answer)
{
    [Function(nameof(OpenSupportTicket))]
    public Task<IResult> OpenSupportTicketAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/orders/{id}/support-tickets")] HttpRequest request, string id) =>
        api.RunAsync(request, Access.Requires("orders:write", ScopedCallers.Filtered), (Caller caller, OpenSupportTicketRequest body, CancellationToken ct) => open.HandleAsync(caller, id, body, ct));

    [Function(nameof(ListSupportTickets))]
    public Task<IResult> ListSupportTicketsAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/orders/{id}/support-tickets")] HttpRequest request, string id) =>
        api.RunAsync(request, Access.Requires("orders:read", ScopedCallers.Filtered), (Caller caller, CancellationToken ct) => list.ListAsync(caller, id, ct));

    [Function("GetSupportTicket")]
    public Task<IResult> GetSupportTicketAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/support-tickets/{id}")] HttpRequest request, string id) =>
        api.RunAsync(request, Access.Requires("orders:read", ScopedCallers.Filtered), (Caller caller, CancellationToken ct) => list.GetAsync(caller, id, ct));

    [Function(nameof(AnswerSupportTicket))]
    public Task<IResult> AnswerSupportTicketAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/support-tickets/{id}/messages")] HttpRequest request, string id) =>
        api.RunAsync(request, Access.Requires("orders:write", ScopedCallers.Filtered), (Caller caller, AnswerSupportTicketRequest body, CancellationToken ct) => answer.HandleAsync(caller, id, body, ct));
}
