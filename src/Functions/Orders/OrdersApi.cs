using ThreePL.Domain.Connections;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Orders;

public static class OrdersApi
{
    public static IEndpointRouteBuilder MapOrdersApi(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/v1/orders").WithTags("Orders").RequirePermission("orders:read");
        var write = app.MapGroup("/v1/orders").WithTags("Orders").RequirePermission("orders:write");
        var ship = app.MapGroup("/v1/orders").WithTags("Orders").RequirePermission("shipments:write");

        write.MapPost("", (HttpContext context, SubmitOrderRequest request, SubmitOrder handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), request, ct)).WithName("SubmitOrder");
        read.MapGet("", (HttpContext context, string? status, string? connectionId, string? cursor, int? limit, ListOrders handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), status, connectionId, cursor, limit, ct)).WithName("ListOrders");
        read.MapGet("/{id}", (HttpContext context, string id, GetOrder handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), id, ct)).WithName("GetOrder");

        write.MapPost("/{id}/delegate", (HttpContext context, string id, DelegateOrderRequest request, DelegateOrder handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), id, request, ct)).WithName("DelegateOrder");
        write.MapPost("/{id}/cancel", (HttpContext context, string id, ChangeOrderStatus handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), id, Party.Merchant, (o, now) => o.Cancel(now), ct)).WithName("CancelOrder");
        write.MapPost("/{id}/cancellation/accept", (HttpContext context, string id, ChangeOrderStatus handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), id, Party.ThreePl, (o, now) => o.AcceptCancellation(now), ct)).WithName("AcceptOrderCancellation");
        write.MapPost("/{id}/cancellation/reject", (HttpContext context, string id, ChangeOrderStatus handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), id, Party.ThreePl, (o, now) => o.RejectCancellation(now), ct)).WithName("RejectOrderCancellation");
        ship.MapPost("/{id}/start", (HttpContext context, string id, ChangeOrderStatus handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), id, Party.ThreePl, (o, now) => o.Start(now), ct)).WithName("StartOrder");
        ship.MapPost("/{id}/ship", (HttpContext context, string id, ShipOrderRequest request, ChangeOrderStatus handler, CancellationToken ct) =>
            handler.ShipAsync(context.GetCaller(), id, request, ct)).WithName("ShipOrder");

        app.MapPut("/v1/routing-rules", (HttpContext context, PutRoutingRulesRequest request, PutRoutingRules handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), request, ct)).WithTags("Orders").RequirePermission("orders:write").WithName("PutRoutingRules");
        app.MapGet("/v1/routing-rules", async (HttpContext context, RoutingStore store, CancellationToken ct) =>
            TypedResults.Ok(await store.GetRulesAsync(context.GetCaller().AccountId, ct).ConfigureAwait(false))).WithTags("Orders").RequirePermission("orders:read").WithName("GetRoutingRules");
        app.MapPut("/v1/carrier-accounts", (HttpContext context, PutCarrierAccountsRequest request, PutCarrierAccounts handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), request, ct)).WithTags("Orders").RequirePermission("shipments:write").WithName("PutCarrierAccounts");
        app.MapGet("/v1/carrier-accounts", async (HttpContext context, RoutingStore store, CancellationToken ct) =>
            TypedResults.Ok(new CarrierAccountsResponse(await store.GetCarrierAccountsAsync(context.GetCaller().AccountId, ct).ConfigureAwait(false)))).WithTags("Orders").RequirePermission("orders:read").WithName("GetCarrierAccounts");
        return app;
    }
}
