using ThreePL.Functions.Http;

namespace ThreePL.Functions.Inventory;

public static class InventoryApi
{
    public static IEndpointRouteBuilder MapInventoryApi(this IEndpointRouteBuilder app)
    {
        app.MapPut("/v1/connections/{id}/inventory", (HttpContext context, string id, ReportInventoryRequest request, ReportInventory handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), id, request, ct)).WithTags("Inventory").RequirePermission("inventory:write").WithName("ReportInventory");
        app.MapGet("/v1/inventory", (HttpContext context, string? sku, string? connectionId, string? cursor, int? limit, ListInventory handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), sku, connectionId, cursor, limit, ct)).WithTags("Inventory").RequirePermission("inventory:read").WithName("ListInventory");
        return app;
    }
}
