using System.Net;
using System.Net.Http.Json;
using Azure.Data.Tables;
using ThreePL.Domain.Common;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Orders;
using ThreePL.Functions.Tests.Infrastructure;
using static ThreePL.Functions.Tests.Orders.OrderTestKit;

namespace ThreePL.Functions.Tests.Orders;

/// <summary>
/// A process that dies after a commit: a second app on the same storage finishes the work from what the first
/// one committed (history rows carrying messages, follow-up messages, queue messages), and nothing is lost or done twice.
/// </summary>
[Collection("azurite")]
public sealed class OrderCrashTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_crash_before_and_after_routing_loses_and_duplicates_nothing()
    {
        // A message the dying app had received comes back only after its lease, as under the Functions host: keep it short.
        var lease = new Dictionary<string, string?> { ["AzureFunctionsJobHost:extensions:queues:messageLease"] = "00:00:03" };
        var first = new TestApp(azurite, lease, TestApp.DiesAfterEachCommit(TimeSpan.FromSeconds(3)));
        var prefix = first.Prefix;
        var threePl = await Seed.AccountAsync(first, "threepl");
        var merchant = await Seed.AccountAsync(first, "merchant");
        await Connect.ActiveAsync(first, threePl, merchant);
        string routed, received;
        using (var shop = first.WithKey(merchant.ApiKey))
        {
            // Routed in the first app, which stops right after each commit: its order.created is published only once the
            // routing message comes back (in either app) and finds it carried by the delegation's history row.
            routed = (await SubmitAsync(shop, "crash-1")).GetProperty("id").GetString()!;
            await WaitForStatusAsync(shop, routed, "awaiting_shipment");
            // Committed; its routing request is queued, or held by this app when it dies.
            received = (await SubmitAsync(shop, "crash-2")).GetProperty("id").GetString()!;
        }
        first.Dispose();

        // The catch-up feed shows what was published; it is read a settle window behind now, so keep that short.
        using var second = new TestApp(azurite, new Dictionary<string, string?>(lease) { ["ThreePL:Reconciliation:SettleWindow"] = "00:00:02" }, prefix: prefix);
        using var tpl = second.WithKey(threePl.ApiKey);
        await WaitForStatusAsync(tpl, routed, "awaiting_shipment");
        await WaitForStatusAsync(tpl, received, "awaiting_shipment");
        var table = Orders(prefix);
        await Eventually.True(async () => await CountAsync(table, TableClient.CreateQueryFilter($"RowKey ge {"outbox|"} and RowKey lt {"outbox}"}")) == 0, "every outbox row to be relayed");
        foreach (var id in new[] { routed, received })
        {
            var history = await RowKeysAsync(table, OrderStore.HistoryFilter(OrderId.Parse(id)));
            Assert.Equal(2, history.Count);
            Assert.Equal(2, (await ApiAssert.Json(await tpl.GetAsync($"/v1/orders/{id}"), HttpStatusCode.OK)).GetProperty("version").GetInt64());
        }
        await Eventually.True(async () => (await ListIdsAsync(tpl)).Count == 2, "the 3PL list to show both orders");
        // Routing's events ride on its history row, not in the outbox: the redelivered message published them.
        await Eventually.True(async () =>
        {
            var feed = await ApiAssert.Json(await tpl.GetAsync("/v1/events?since=2020-01-01T00:00:00Z&limit=100"), HttpStatusCode.OK);
            var created = feed.GetProperty("items").EnumerateArray()
                .Where(e => e.GetProperty("type").GetString() == "order.created")
                .Select(e => e.GetProperty("data").GetProperty("id").GetString()).ToList();
            return created.Order().SequenceEqual(new[] { routed, received }.Order());
        }, "order.created of both orders in the 3PL's feed, once each");
    }

    [Fact]
    public async Task A_crash_after_an_http_command_commit_is_finished_by_its_follow_up_message()
    {
        var lease = new Dictionary<string, string?> { ["AzureFunctionsJobHost:extensions:queues:messageLease"] = "00:00:03" };
        var first = new TestApp(azurite, lease, TestApp.DiesAfterEachCommit(TimeSpan.FromSeconds(2)));
        var prefix = first.Prefix;
        var merchant = await Seed.AccountAsync(first, "merchant");
        var rejecting = await Seed.AccountAsync(first, "threepl");
        var next = await Seed.AccountAsync(first, "threepl");
        var toRejecting = await Connect.ActiveAsync(first, rejecting, merchant);
        var toNext = await Connect.ActiveAsync(first, next, merchant);
        string id;
        using (var shop = first.WithKey(merchant.ApiKey))
        using (var tpl = first.WithKey(rejecting.ApiKey))
        {
            await ApiAssert.Json(await shop.PutAsJsonAsync("/v1/routing-rules", new
            {
                rules = new[] { new { type = "skuPrefix", skuPrefixes = new[] { "A-" }, connectionId = toRejecting } },
                defaultConnectionId = toNext,
            }), HttpStatusCode.OK);
            id = (await SubmitAsync(shop, "crash-reject", sku: "A-1")).GetProperty("id").GetString()!;
            await WaitForStatusAsync(tpl, id, "awaiting_shipment");
            // Committed with its order.rejected event and its routing request on the history row; the process "dies"
            // before it syncs the lists or releases its follow-up, which arrives after its delay.
            await ApiAssert.Json(await tpl.PostAsJsonAsync($"/v1/orders/{id}/reject", new { reason = "inventory_out_of_stock" }), HttpStatusCode.OK);
        }
        first.Dispose();

        using var second = new TestApp(azurite, new Dictionary<string, string?>(lease) { ["ThreePL:Reconciliation:SettleWindow"] = "00:00:02" }, prefix: prefix);
        using var nextClient = second.WithKey(next.ApiKey);
        using var rejectingClient = second.WithKey(rejecting.ApiKey);
        var rerouted = await WaitForStatusAsync(nextClient, id, "awaiting_shipment", TimeSpan.FromSeconds(60));
        Assert.Equal(toNext, rerouted.GetProperty("connectionId").GetString());
        Assert.Equal(4, rerouted.GetProperty("version").GetInt64());
        await Eventually.True(async () =>
        {
            var feed = await ApiAssert.Json(await rejectingClient.GetAsync("/v1/events?since=2020-01-01T00:00:00Z&limit=100"), HttpStatusCode.OK);
            return feed.GetProperty("items").EnumerateArray().Count(e => e.GetProperty("type").GetString() == "order.rejected") == 1;
        }, "order.rejected in the rejecting 3PL's feed, once");
        await Eventually.True(async () => (await ListIdsAsync(nextClient)).SequenceEqual([id]) && (await ListIdsAsync(rejectingClient)).Count == 0,
            "the lists to follow the rejection and the re-routing");
    }

    [Fact]
    public async Task A_crash_during_hand_back_loses_and_duplicates_nothing()
    {
        var settings = new Dictionary<string, string?>
        {
            ["ThreePL:Orders:HandbackPageSize"] = "2",
            ["AzureFunctionsJobHost:extensions:queues:messageLease"] = "00:00:03",
        };
        var first = new TestApp(azurite, settings);
        var prefix = first.Prefix;
        var threePl = await Seed.AccountAsync(first, "threepl");
        var merchant = await Seed.AccountAsync(first, "merchant");
        var connection = await Connect.ActiveAsync(first, threePl, merchant);
        var ids = new List<string>();
        using (var shop = first.WithKey(merchant.ApiKey))
        using (var tpl = first.WithKey(threePl.ApiKey))
        {
            for (var i = 0; i < 9; i++)
            {
                ids.Add((await SubmitAsync(shop, $"hb-{i}")).GetProperty("id").GetString()!);
            }
            foreach (var id in ids)
            {
                await WaitForStatusAsync(tpl, id, "awaiting_shipment");
            }
            await ApiAssert.Json(await tpl.PostAsync($"/v1/orders/{ids[0]}/start", null), HttpStatusCode.OK);
            await ApiAssert.Json(await shop.PostAsync($"/v1/connections/{connection}/deactivate", null), HttpStatusCode.OK);
            await Eventually.True(async () =>
            {
                foreach (var id in ids.Skip(1))
                {
                    var body = await (await shop.GetAsync($"/v1/orders/{id}")).Content.ReadAsStringAsync();
                    if (body.Contains("\"status\":\"open\"", StringComparison.Ordinal))
                    {
                        return true;
                    }
                }
                return false;
            }, "the hand-back to start");
        }
        first.Dispose();

        using var second = new TestApp(azurite, settings, prefix: prefix);
        using var merchantClient = second.WithKey(merchant.ApiKey);
        using var threePlClient = second.WithKey(threePl.ApiKey);
        foreach (var id in ids.Skip(1))
        {
            var order = await WaitForStatusAsync(merchantClient, id, "open", TimeSpan.FromSeconds(60));
            Assert.Equal(3, order.GetProperty("version").GetInt64());
        }
        Assert.Equal("in_progress", (await ApiAssert.Json(await threePlClient.GetAsync($"/v1/orders/{ids[0]}"), HttpStatusCode.OK)).GetProperty("status").GetString());
        var table = Orders(prefix);
        foreach (var id in ids.Skip(1))
        {
            var history = await RowKeysAsync(table, OrderStore.HistoryFilter(OrderId.Parse(id)));
            Assert.Equal(3, history.Count);
        }
        await Eventually.True(async () => (await ListIdsAsync(threePlClient)).SequenceEqual([ids[0]]), "the 3PL list to keep only the started order");
    }

    private TableClient Orders(string prefix) => azurite.Tables.GetTableClient(new StorageNames(prefix).Table("orders"));

    private static async Task<int> CountAsync(TableClient table, string filter) => (await RowKeysAsync(table, filter)).Count;

    private static async Task<List<string>> RowKeysAsync(TableClient table, string filter)
    {
        var keys = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, select: ["RowKey"]))
        {
            keys.Add(row.RowKey);
        }
        return keys;
    }
}
