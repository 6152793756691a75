using System.Net;
using System.Net.Http.Json;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Security;

/// <summary>One tenant pair with a resource of every kind, whose ids the security suites aim at.</summary>
public sealed record HostileWorld(SeededAccount ThreePl, SeededAccount Merchant, string ConnectionId, string OrderId, string KeyId, string EndpointId)
{
    public static async Task<HostileWorld> BuildAsync(TestApp app)
    {
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var connection = await Connect.ActiveAsync(app, threePl, merchant);
        using var shop = app.WithKey(merchant.ApiKey);
        using var tpl = app.WithKey(threePl.ApiKey);
        var order = await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/orders", new
        {
            externalId = "world-1",
            lines = new[] { new { sku = "SKU-1", quantity = 1 } },
            shipTo = new { name = "Ada", line1 = "Main St 1", city = "Berlin", postalCode = "10115", countryCode = "DE" },
        }), HttpStatusCode.Created);
        var orderId = order.GetProperty("id").GetString()!;
        await Eventually.True(async () => (await ApiAssert.Json(await shop.GetAsync($"/v1/orders/{orderId}"), HttpStatusCode.OK)).GetProperty("status").GetString() == "awaiting_shipment", "the order to be routed");
        var key = await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/api-keys", new { name = "wms", permissions = new[] { "orders:read" } }), HttpStatusCode.Created);
        var endpoint = await ApiAssert.Json(await tpl.PostAsJsonAsync("/v1/webhook-endpoints", new { url = "http://127.0.0.1:9/never", eventTypes = new[] { "order.shipped" } }), HttpStatusCode.Created);
        return new HostileWorld(threePl, merchant, connection, orderId, key.GetProperty("id").GetString()!, endpoint.GetProperty("id").GetString()!);
    }

    /// <summary>A real id of the kind a route takes, so body and query hostility reach the validation behind it.</summary>
    public string IdFor(string path) => path switch
    {
        _ when path.StartsWith("/v1/connections/", StringComparison.Ordinal) => ConnectionId,
        _ when path.StartsWith("/v1/orders/", StringComparison.Ordinal) => OrderId,
        _ when path.StartsWith("/v1/api-keys/", StringComparison.Ordinal) => KeyId,
        _ when path.StartsWith("/v1/webhook-endpoints/", StringComparison.Ordinal) => EndpointId,
        _ => "dlv_00000000000000000000",
    };
}
