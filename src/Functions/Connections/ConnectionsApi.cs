using ThreePL.Functions.Http;

namespace ThreePL.Functions.Connections;

public static class ConnectionsApi
{
    public static IEndpointRouteBuilder MapConnectionsApi(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/v1/connections").WithTags("Connections").RequirePermission("connections:read");
        var write = app.MapGroup("/v1/connections").WithTags("Connections").RequirePermission("connections:write");

        write.MapPost("", (HttpContext context, InviteConnectionRequest request, InviteConnection handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), request, ct)).WithName("InviteConnection");
        read.MapGet("", (HttpContext context, string? status, string? cursor, int? limit, ListConnections handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), status, cursor, limit, ct)).WithName("ListConnections");
        read.MapGet("/{id}", (HttpContext context, string id, GetConnection handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), id, ct)).WithName("GetConnection");

        write.MapPost("/{id}/approve", (HttpContext context, string id, ApproveConnectionRequest? request, ChangeConnectionStatus handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), id, (c, actor, now) => c.Approve(actor, request?.Confirm == true, now), ct)).WithName("ApproveConnection");
        write.MapPost("/{id}/decline", (HttpContext context, string id, ChangeConnectionStatus handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), id, (c, actor, now) => c.Decline(actor, now), ct)).WithName("DeclineConnection");
        write.MapPost("/{id}/cancel", (HttpContext context, string id, ChangeConnectionStatus handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), id, (c, actor, now) => c.Cancel(actor, now), ct)).WithName("CancelConnection");
        write.MapPost("/{id}/deactivate", (HttpContext context, string id, ChangeConnectionStatus handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), id, (c, actor, now) => c.Deactivate(actor, now), ct)).WithName("DeactivateConnection");
        write.MapPost("/{id}/reactivate", (HttpContext context, string id, ChangeConnectionStatus handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), id, (c, actor, now) => c.Reactivate(actor, now), ct)).WithName("ReactivateConnection");
        write.MapPost("/{id}/disconnect", (HttpContext context, string id, ChangeConnectionStatus handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), id, (c, actor, now) => c.Disconnect(actor, now), ct)).WithName("DisconnectConnection");

        read.MapGet("/{id}/settings", (HttpContext context, string id, GetConnectionSettings handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), id, context.Response, ct)).WithName("GetConnectionSettings");
        write.MapMethods("/{id}/settings", ["PATCH"], (HttpContext context, string id, UpdateConnectionSettingsRequest request, UpdateConnectionSettings handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), id, context.Request.Headers.IfMatch.ToString() is { Length: > 0 } m ? m : null, request, context.Response, ct)).WithName("UpdateConnectionSettings");
        write.MapPost("/{id}/webhook-secret", (HttpContext context, string id, RotateWebhookSecret handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), id, ct)).WithName("RotateWebhookSecret");
        write.MapPost("/{id}/impersonation", (HttpContext context, string id, Impersonation.StartImpersonation handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), id, ct)).WithName("StartImpersonation");
        app.MapPost("/v1/brands", (HttpContext context, OnboardBrandRequest request, OnboardBrand handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), request, ct)).WithTags("Connections").RequirePermission("connections:write").WithName("OnboardBrand");
        return app;
    }
}
