using ThreePL.Functions.Http;

namespace ThreePL.Functions.SupportTickets;

public static class SupportTicketsApi
{
    public static IEndpointRouteBuilder MapSupportTicketsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/orders/{id}/support-tickets", (HttpContext context, string id, OpenSupportTicketRequest request, OpenSupportTicket handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), id, request, ct)).WithTags("Support tickets").RequirePermission("orders:write").WithName("OpenSupportTicket");
        app.MapGet("/v1/orders/{id}/support-tickets", (HttpContext context, string id, ListSupportTickets handler, CancellationToken ct) =>
            handler.ListAsync(context.GetCaller(), id, ct)).WithTags("Support tickets").RequirePermission("orders:read").WithName("ListSupportTickets");
        app.MapGet("/v1/support-tickets/{id}", (HttpContext context, string id, ListSupportTickets handler, CancellationToken ct) =>
            handler.GetAsync(context.GetCaller(), id, ct)).WithTags("Support tickets").RequirePermission("orders:read").WithName("GetSupportTicket");
        app.MapPost("/v1/support-tickets/{id}/messages", (HttpContext context, string id, AnswerSupportTicketRequest request, AnswerSupportTicket handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), id, request, ct)).WithTags("Support tickets").RequirePermission("orders:write").WithName("AnswerSupportTicket");
        return app;
    }
}
