using System.Net;
using System.Net.Http.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using ThreePL.Domain.Common;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Orders;
using ThreePL.Functions.Tests.Infrastructure;
using static ThreePL.Functions.Tests.Orders.OrderTestKit;

namespace ThreePL.Functions.Tests.Orders;

/// <summary>
/// An order lives in its merchant's partition and is its own list row there (docs/orders-storage.md, "The order in its
/// merchant's partition"); orders received before that change keep their own partition and their list projection,
/// and a re-send of one of them still finds it.
/// </summary>
[Collection("azurite")]
public sealed class MerchantPartitionOrderTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_new_order_is_one_row_in_its_merchants_partition_with_its_history_marker_and_change_row()
    {
        using var app = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:Hosting:Listeners"] = "false" });
        var merchant = await Seed.AccountAsync(app, "merchant");
        using var shop = app.WithKey(merchant.ApiKey);

        var id = OrderId.Parse((await SubmitAsync(shop, "in-partition-1")).GetProperty("id").GetString()!);

        Assert.Equal(AccountId.Parse(merchant.Id), id.Merchant);
        var rows = await RowsAsync(app, OrderIndex.MerchantPartition(id.Merchant!.Value));
        Assert.Equal(
            new[] { id.Own, "~h|" + id.Own + "|0000000001", "~r|" + id.Own + "|", "~u|" },
            rows.Select(r => r.RowKey.StartsWith("~r|", StringComparison.Ordinal) ? r.RowKey[..(4 + id.Own.Length)] : r.RowKey.StartsWith("~u|", StringComparison.Ordinal) ? "~u|" : r.RowKey).ToArray());
        var order = rows[0];
        Assert.Equal(id.Value, order.GetString("OrderId"));
        Assert.Equal("open", order.GetString("Status"));
        Assert.Equal(rows[3].RowKey, order.GetString("FeedKeys"));
        Assert.Equal(id.Value, rows[3].GetString("OrderId"));
        Assert.Empty(await RowsAsync(app, id.Value));
        Assert.Empty(await RowsAsync(app, id.Own));

        var listed = await ApiAssert.Json(await shop.GetAsync("/v1/orders"), HttpStatusCode.OK);
        Assert.Equal(id.Value, Assert.Single(listed.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal(id.Value, (await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/orders", Body("in-partition-1")), HttpStatusCode.OK)).GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_change_commits_the_order_its_history_and_its_change_row_together_replacing_the_previous_change_row()
    {
        using var app = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:Hosting:Listeners"] = "false" });
        var merchant = await Seed.AccountAsync(app, "merchant");
        using var shop = app.WithKey(merchant.ApiKey);
        var id = OrderId.Parse((await SubmitAsync(shop, "in-partition-2")).GetProperty("id").GetString()!);
        var before = (await RowsAsync(app, OrderIndex.MerchantPartition(id.Merchant!.Value))).Single(r => r.RowKey.StartsWith("~u|", StringComparison.Ordinal));

        await ApiAssert.Json(await shop.PostAsync($"/v1/orders/{id}/cancel", null), HttpStatusCode.OK);

        var rows = await RowsAsync(app, OrderIndex.MerchantPartition(id.Merchant!.Value));
        var change = Assert.Single(rows, r => r.RowKey.StartsWith("~u|", StringComparison.Ordinal));
        Assert.NotEqual(before.RowKey, change.RowKey);
        Assert.Equal(2, change.GetInt64("Version"));
        Assert.Equal(change.RowKey, rows.Single(r => r.RowKey == id.Own).GetString("FeedKeys"));
        Assert.Equal(2, rows.Count(r => r.RowKey.StartsWith("~h|", StringComparison.Ordinal)));
        var cancelled = await ApiAssert.Json(await shop.GetAsync("/v1/orders?status=cancelled"), HttpStatusCode.OK);
        Assert.Equal(id.Value, Assert.Single(cancelled.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task An_order_stored_apart_keeps_working_and_a_resend_of_it_answers_with_it()
    {
        using var app = new TestApp(azurite);
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var connection = await Connect.ActiveAsync(app, threePl, merchant);
        using var shop = app.WithKey(merchant.ApiKey);
        using var tpl = app.WithKey(threePl.ApiKey);
        var apart = await StoreApartAsync(app, AccountId.Parse(merchant.Id), "apart-1", listed: true);

        var resent = await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/orders", Body("apart-1")), HttpStatusCode.OK);
        Assert.Equal(apart.Value, resent.GetProperty("id").GetString());
        var fresh = (await SubmitAsync(shop, "apart-2")).GetProperty("id").GetString()!;
        Assert.NotNull(OrderId.Parse(fresh).Merchant);
        Assert.Equal(new[] { apart.Value, fresh }.Order(), (await ListIdsAsync(shop)).Order());

        // The re-send's routing request finds the order still open and routes it, as a re-send of an open order always has.
        var delegated = await WaitForStatusAsync(tpl, apart.Value, "awaiting_shipment");
        Assert.Equal(connection, delegated.GetProperty("connectionId").GetString());
        await Eventually.True(async () => (await ListIdsAsync(shop, "&status=awaiting_shipment")).Contains(apart.Value), "the merchant's list projection to follow the order stored apart");
        await ApiAssert.Json(await tpl.PostAsync($"/v1/orders/{apart}/accept", null), HttpStatusCode.OK);
        var history = await app.Services.GetRequiredService<OrderStore>().ListHistoryAsync(apart, CancellationToken.None);
        Assert.Equal(new long[] { 1, 2, 3 }, history.Select(h => h.Version).ToArray());
        Assert.Empty(await RowsAsync(app, OrderIndex.MerchantPartition(AccountId.Parse(merchant.Id)), "~h|" + apart.Value + "|"));
    }

    [Fact]
    public async Task The_projection_of_an_order_stored_apart_never_overwrites_an_order_of_the_same_key()
    {
        using var app = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:Hosting:Listeners"] = "false" });
        var merchant = await Seed.AccountAsync(app, "merchant");
        using var shop = app.WithKey(merchant.ApiKey);
        // An order stored apart whose list row was never written (the process died before): a re-send cannot see it,
        // which is why docs/operations.md drains the routing queue before this change is deployed.
        var apart = await StoreApartAsync(app, AccountId.Parse(merchant.Id), "apart-3", listed: false);
        var fresh = OrderId.Parse((await SubmitAsync(shop, "apart-3")).GetProperty("id").GetString()!);
        Assert.Equal(apart.Value, fresh.Own);
        var partition = OrderIndex.MerchantPartition(AccountId.Parse(merchant.Id));
        var before = (await RowsAsync(app, partition)).Single(r => r.RowKey == fresh.Own);

        var store = app.Services.GetRequiredService<OrderStore>();
        await app.Services.GetRequiredService<OrderIndex>().SyncAsync(apart, CancellationToken.None);

        var after = (await RowsAsync(app, partition)).Single(r => r.RowKey == fresh.Own);
        Assert.Equal(before.ETag, after.ETag);
        Assert.Equal(fresh, (await store.GetAsync(fresh))!.Order.Id);
        Assert.Equal(apart, (await store.GetAsync(apart))!.Order.Id);
    }

    [Fact]
    public async Task An_insert_stored_later_than_the_feed_allows_moves_its_change_row_to_a_fresh_time()
    {
        using var app = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:Hosting:Listeners"] = "false" });
        var merchant = AccountId.Parse((await Seed.AccountAsync(app, "merchant")).Id);
        var start = new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
        var options = new ReconciliationOptions { SettleWindow = TimeSpan.FromSeconds(2) };
        // Each clock read is 2 s after the previous one, so the insert overruns the 1 s bound and is re-keyed.
        var store = new OrderStore(app.Services.GetRequiredService<TableServiceClient>(), app.Services.GetRequiredService<StorageNames>(), new SteppingTime(start, TimeSpan.FromSeconds(2)), options, app.Services.GetRequiredService<ThreePL.Functions.Messaging.EventViews>());
        var id = OrderStore.IdFor(merchant, "late-1");
        var (order, received) = Order.Create(id, merchant, Draft("late-1"), start);
        var created = new StoredOrder(order, null, [], default) { FeedKeys = store.NewFeedKeys(order) };

        var stored = await store.TryCreateAsync(created, [received], null, CancellationToken.None);

        Assert.NotNull(stored);
        var change = Assert.Single(await RowsAsync(app, OrderIndex.MerchantPartition(merchant), "~u|"));
        Assert.NotEqual(created.FeedKeys[0], change.RowKey);
        Assert.Equal(change.RowKey, Assert.Single(stored.FeedKeys));
        var row = (await RowsAsync(app, OrderIndex.MerchantPartition(merchant))).Single(r => r.RowKey == id.Own);
        Assert.Equal(change.RowKey, row.GetString("FeedKeys"));
        Assert.Equal(row.ETag, stored.ETag);
        Assert.True(TimeKeyedFeed.TimeOf(OrderChangeFeed.ChangePrefix, change.RowKey) > TimeKeyedFeed.TimeOf(OrderChangeFeed.ChangePrefix, created.FeedKeys[0]));
    }


    /// <summary>An order of the older id form, written as intake wrote it before the change: its own partition, and its list projection if <paramref name="listed"/>.</summary>
    private static async Task<OrderId> StoreApartAsync(TestApp app, AccountId merchant, string externalId, bool listed)
    {
        var id = OrderId.Parse(OrderStore.IdFor(merchant, externalId).Own);
        var (order, received) = Order.Create(id, merchant, Draft(externalId), DateTimeOffset.UtcNow);
        var stored = await app.Services.GetRequiredService<OrderStore>().TryCreateAsync(new StoredOrder(order, null, [], default), [received], null, CancellationToken.None)
            ?? throw new InvalidOperationException("The order stored apart exists already.");
        Assert.Equal(id.Value, OrderStore.PartitionOf(id));
        if (listed)
        {
            await app.Services.GetRequiredService<OrderIndex>().SyncAsync(stored, expectNew: true, CancellationToken.None);
        }
        return id;
    }

    private static OrderDraft Draft(string externalId) =>
        OrderDraft.Validate(externalId, [new OrderLine("SKU-1", 2, "Socks")], new Address("Ada", "Main St 1", null, "Berlin", "10115", null, "DE", null, null), null, null).Draft
            ?? throw new InvalidOperationException("The test's draft is invalid.");

    private static async Task<List<TableEntity>> RowsAsync(TestApp app, string partition, string? prefix = null)
    {
        var table = app.Services.GetRequiredService<OrderStore>().Table;
        var filter = prefix is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {partition}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {prefix} and RowKey lt {prefix[..^1] + "}"}");
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter))
        {
            rows.Add(row);
        }
        return rows;
    }
}
