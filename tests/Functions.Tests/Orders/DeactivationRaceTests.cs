using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using ThreePL.Domain.Common;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;
using ThreePL.Functions.Orders;
using ThreePL.Functions.Tests.Infrastructure;
using static ThreePL.Functions.Tests.Orders.OrderTestKit;

namespace ThreePL.Functions.Tests.Orders;

/// <summary>
/// A delegation that read its connection as active just before the connection was deactivated, and committed after
/// the hand-back had looked for orders, must still end with the merchant (<see cref="HandBackOptions"/>): a quick
/// delegation through the hand-back's second run, a slow one through its own re-read.
/// </summary>
[Collection("azurite")]
public sealed class DeactivationRaceTests(AzuriteFixture azurite)
{
    /// <summary>
    /// Long enough that, even on a loaded machine, the first hand-back run finishes well before the second turns
    /// visible: the tests need that window to be observable.
    /// </summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_quick_delegation_on_a_stale_read_is_handed_back_by_the_second_run()
    {
        using var app = NewApp();
        var (order, stale, shop) = await OrderAndStaleConnectionAsync(app);
        var router = app.Services.GetRequiredService<OrderRouter>();

        var result = await router.DelegateAsync(OrderId.Parse(order), stale.Connection.Id, stale.Connection.MerchantAccountId, 1, CancellationToken.None,
            OrderRecovery.MessageRedelivery, connection: stale, connectionReadAt: app.Services.GetRequiredService<TimeProvider>().GetUtcNow());

        Assert.Null(result.Error);
        // Within the window routing trusts the second run and does not read the connection again.
        Assert.Equal(stale.Connection.Id, result.Order!.Order.ConnectionId);
        var back = await WaitForStatusAsync(shop, order, "open", Settle * 3);
        Assert.Equal(JsonValueKind.Null, back.GetProperty("connectionId").ValueKind);
    }

    [Fact]
    public async Task A_slow_delegation_on_a_stale_read_reads_the_connection_again_and_hands_the_order_back_itself()
    {
        using var app = NewApp();
        var (order, stale, _) = await OrderAndStaleConnectionAsync(app);
        var router = app.Services.GetRequiredService<OrderRouter>();
        var readLongAgo = app.Services.GetRequiredService<TimeProvider>().GetUtcNow() - app.Services.GetRequiredService<HandBackOptions>().DelegationWindow - TimeSpan.FromSeconds(1);

        var result = await router.DelegateAsync(OrderId.Parse(order), stale.Connection.Id, stale.Connection.MerchantAccountId, 1, CancellationToken.None,
            OrderRecovery.MessageRedelivery, connection: stale, connectionReadAt: readLongAgo);

        Assert.Null(result.Error);
        Assert.Null(result.Order!.Order.ConnectionId);
    }

    private TestApp NewApp() => new(azurite, new Dictionary<string, string?> { ["ThreePL:Orders:HandbackSettle"] = Settle.ToString() });

    /// <summary>
    /// An open order, a connection read while active and then deactivated, and the deactivation's first hand-back
    /// run done (the order was not delegated then, so it found nothing) while its second run still waits.
    /// </summary>
    private static async Task<(string Order, StoredConnection Stale, HttpClient Shop)> OrderAndStaleConnectionAsync(TestApp app)
    {
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var connection = await Connect.ActiveAsync(app, threePl, merchant);
        var store = app.Services.GetRequiredService<ConnectionStore>();
        var stale = (await store.GetAsync(ConnectionId.Parse(connection), CancellationToken.None))!;
        var shop = app.WithKey(merchant.ApiKey);
        using (var tpl = app.WithKey(threePl.ApiKey))
        {
            // Routing leaves new orders with the merchant, so the order below is open when the stale delegation runs.
            await ApiAssert.Json(await tpl.PatchJson($"/v1/connections/{connection}/settings", new { manageOrders = false }), HttpStatusCode.OK);
        }
        var order = (await SubmitAsync(shop, "race-1")).GetProperty("id").GetString()!;
        await WaitForRoutingAsync(app);
        Assert.Equal("open", (await ApiAssert.Json(await shop.GetAsync($"/v1/orders/{order}"), HttpStatusCode.OK)).GetProperty("status").GetString());

        await ApiAssert.Json(await shop.PostAsync($"/v1/connections/{connection}/deactivate", null), HttpStatusCode.OK);
        var handbacks = app.Services.GetRequiredService<QueueServiceClient>().GetQueueClient(app.Services.GetRequiredService<StorageNames>().Queue(HandBackRequest.Queue));
        // Two hand-back messages: the first visible at once, the second only after the settle time.
        await Eventually.True(async () => await handbacks.ApproximateCountAsync() == 1 && (await handbacks.PeekMessagesAsync(1)).Value.Length == 0,
            "the first hand-back run to finish while the second waits", Settle);
        return (order, stale, shop);
    }
}
