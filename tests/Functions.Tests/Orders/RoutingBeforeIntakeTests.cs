using System.Net;
using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using ThreePL.Domain.Common;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Orders;
using ThreePL.Functions.Tests.Infrastructure;
using static ThreePL.Functions.Tests.Orders.OrderTestKit;

namespace ThreePL.Functions.Tests.Orders;

/// <summary>
/// Intake sends the routing message before it writes the order, so routing must tolerate an order that is not there
/// yet (look again later), one that never came (give up after the grace period), and route it once it is there.
/// </summary>
[Collection("azurite")]
public sealed class RoutingBeforeIntakeTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_routing_message_ahead_of_its_order_looks_again_later_gives_up_after_the_grace_and_routes_once_the_order_exists()
    {
        using var app = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:Hosting:Listeners"] = "false" });
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        await Connect.ActiveAsync(app, threePl, merchant);
        var queue = app.Services.GetRequiredService<QueueServiceClient>().GetQueueClient(app.Services.GetRequiredService<StorageNames>().Queue(OrderMessages.RoutingQueue));
        var routing = ActivatorUtilities.CreateInstance<RouteOrderFunction>(app.Services);
        var id = OrderStore.IdFor(AccountId.Parse(merchant.Id), "early-1");
        var before = await queue.ApproximateCountAsync();

        await routing.HandleAsync(RoutingDelivery(new RouteOrderMessage(id.Value, 1, DateTimeOffset.UtcNow)), default);
        Assert.Equal(before + 1, await queue.ApproximateCountAsync());

        await routing.HandleAsync(RoutingDelivery(new RouteOrderMessage(id.Value, 1, DateTimeOffset.UtcNow - RouteOrderFunction.IntakeGrace - TimeSpan.FromMinutes(1))), default);
        Assert.Equal(before + 1, await queue.ApproximateCountAsync());

        using var shop = app.WithKey(merchant.ApiKey);
        var order = await SubmitAsync(shop, "early-1");
        Assert.Equal(id.Value, order.GetProperty("id").GetString());
        Assert.Equal("open", order.GetProperty("status").GetString());
        await routing.HandleAsync(RoutingDelivery(new RouteOrderMessage(id.Value, 1, DateTimeOffset.UtcNow)), default);
        var routed = await ApiAssert.Json(await shop.GetAsync($"/v1/orders/{id}"), HttpStatusCode.OK);
        Assert.Equal("awaiting_shipment", routed.GetProperty("status").GetString());
        Assert.Equal(2, routed.GetProperty("version").GetInt64());

        // The same message again, and the one intake sent itself: the order moved on, nothing changes.
        await routing.HandleAsync(RoutingDelivery(new RouteOrderMessage(id.Value, 1, DateTimeOffset.UtcNow)), default);
        Assert.Equal(2, (await ApiAssert.Json(await shop.GetAsync($"/v1/orders/{id}"), HttpStatusCode.OK)).GetProperty("version").GetInt64());
    }
}
