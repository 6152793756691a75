using ThreePL.Functions.Http;

namespace ThreePL.Functions.Inventory;

public sealed class InventoryFunctions(HttpApi api, ReportInventory report, ListInventory list)
{
    [Function(nameof(ReportInventory))]
    public Task<IResult> ReportInventoryAsync([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "v1/connections/{id}/inventory")] HttpRequest request, string id) =>
        api.RunAsync(request, Access.Requires("inventory:write", ScopedCallers.Filtered), (Caller caller, ReportInventoryRequest body, CancellationToken ct) => report.HandleAsync(caller, id, body, ct));

    [Function(nameof(ListInventory))]
    public Task<IResult> ListInventoryAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/inventory")] HttpRequest request) =>
        api.RunAsync(request, Access.Requires("inventory:read", ScopedCallers.Filtered), (Caller caller, CancellationToken ct) => list.HandleAsync(
            caller, Query.Text(request, "sku"), Query.Text(request, "connectionId"), Query.Text(request, "cursor"), Query.Int(request, "limit"), ct));
}
