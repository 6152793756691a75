using System.Net;
using System.Net.Http.Json;
using System.Text;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Billing;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Orders;
using ThreePL.Functions.Tests.Infrastructure;
using static ThreePL.Functions.Tests.Orders.OrderTestKit;

namespace ThreePL.Functions.Tests.Billing;

/// <summary>
/// The usage line of a shipment of an order in its merchant's partition rides in a transaction the order writes anyway
/// (docs/billing.md): the ship's commit when the merchant pays, the 3PL's list-row write when the 3PL pays; nothing is
/// inserted into table <c>billing</c>. The usage report reads both places.
/// </summary>
[Collection("azurite")]
public sealed class UsageRideTests(AzuriteFixture azurite)
{
    private static string Month => UsageRows.Month(DateTimeOffset.UtcNow);

    [Fact]
    public async Task A_ship_the_merchant_pays_for_writes_its_line_in_the_merchant_partition_with_the_commit_and_nothing_in_billing()
    {
        using var app = new TestApp(azurite);
        using var parties = await ConnectedAsync(app);
        var (shop, tpl, merchant, threePl, connection) = parties;
        await ApiAssert.Json(await tpl.PatchJson($"/v1/connections/{connection}/settings", new { orderFeeBilledTo = "merchant" }), HttpStatusCode.OK);
        var id = await RoutedAsync(shop, tpl, "m-pays");

        await ShipAsync(tpl, id, "M-1");

        // In the ship's own transaction: there as soon as the ship answered.
        var line = Assert.Single(await LinesAsync(app, OrderIndex.MerchantPartition(merchant)));
        Assert.Equal($"{UsageRows.Prefix}{Month}|{connection}|{id}", line.RowKey);
        Assert.Equal("merchant", line.GetString("BilledTo"));
        Assert.Equal("M-1", line.GetString("TrackingNumber"));
        Assert.Empty(await LinesAsync(app, OrderIndex.ThreePlPartition(threePl)));
        var usage = await UsageWithAsync(shop, 1);
        Assert.Equal(id, usage.GetProperty("connections")[0].GetProperty("lines")[0].GetProperty("orderId").GetString());
        Assert.Equal(0, (await UsageAsync(tpl)).GetProperty("totalShipments").GetInt32());
        // The merchant's lists never show the line.
        Assert.Equal([id], await ListIdsAsync(shop));
        await SettledAsync(app);
        Assert.Empty(await BillingRowsAsync(app, id));
    }

    [Fact]
    public async Task A_ship_the_threepl_pays_for_writes_its_line_with_the_threepl_list_row_and_nothing_in_billing()
    {
        using var app = new TestApp(azurite);
        using var parties = await ConnectedAsync(app);
        var (shop, tpl, _, threePl, connection) = parties;
        var id = await RoutedAsync(shop, tpl, "t-pays");

        await ShipAsync(tpl, id, "T-1");

        var line = Assert.Single(await LinesAsync(app, OrderIndex.ThreePlPartition(threePl)));
        Assert.Equal($"{UsageRows.Prefix}{Month}|{connection}|{id}", line.RowKey);
        Assert.Equal("threepl", line.GetString("BilledTo"));
        Assert.Equal(1, (await UsageAsync(tpl)).GetProperty("totalShipments").GetInt32());
        Assert.Equal(0, (await UsageAsync(shop)).GetProperty("totalShipments").GetInt32());
        Assert.Equal([id], await ListIdsAsync(tpl));
        Assert.Equal([id], await ListIdsAsync(tpl, "&connectionId=" + connection));
        await SettledAsync(app);
        Assert.Empty(await BillingRowsAsync(app, id));
    }

    [Fact]
    public async Task A_list_sync_that_fails_after_the_ship_is_repaired_by_the_follow_up_with_exactly_one_line()
    {
        var failing = new FailsOneBatch("~b|");
        using var app = new TestApp(azurite, services: s => s.AddSingleton(new StoragePolicy(failing)));
        using var parties = await ConnectedAsync(app);
        var (shop, tpl, _, threePl, _) = parties;
        var id = await RoutedAsync(shop, tpl, "sync-fails");
        failing.Arm();

        await ShipAsync(tpl, id, "F-1");

        Assert.Equal(1, failing.Failed);
        await Eventually.True(async () => (await LinesAsync(app, OrderIndex.ThreePlPartition(threePl))).Count == 1, "the follow-up to write the line with the list row");
        await SettledAsync(app);
        Assert.Single(await LinesAsync(app, OrderIndex.ThreePlPartition(threePl)));
        Assert.Empty(await BillingRowsAsync(app, id));
        Assert.Equal(1, (await UsageAsync(tpl)).GetProperty("totalShipments").GetInt32());
    }

    [Fact]
    public async Task A_crash_after_the_ship_commit_ends_with_exactly_one_line_written_by_the_recovery()
    {
        var first = new TestApp(azurite, services: TestApp.DiesAfterEachCommit(TimeSpan.FromSeconds(2)));
        var parties = await ConnectedAsync(first);
        var (shop, tpl, _, threePl, _) = parties;
        var id = await RoutedAsync(shop, tpl, "crash-ride");
        await ShipAsync(tpl, id, "C-1");
        Assert.Empty(await LinesAsync(first, OrderIndex.ThreePlPartition(threePl)));
        parties.Dispose();
        first.Dispose();

        using var second = new TestApp(azurite, prefix: first.Prefix);
        await Eventually.True(async () => (await LinesAsync(second, OrderIndex.ThreePlPartition(threePl))).Count == 1, "the recovered follow-up to write the line");
        await SettledAsync(second);
        Assert.Single(await LinesAsync(second, OrderIndex.ThreePlPartition(threePl)));
        Assert.Empty(await BillingRowsAsync(second, id));
    }

    [Fact]
    public async Task A_split_shipment_writes_one_line_per_shipment_and_a_later_sync_writes_the_same_rows()
    {
        using var app = new TestApp(azurite);
        using var parties = await ConnectedAsync(app);
        var (shop, tpl, _, threePl, connection) = parties;
        var body = new
        {
            externalId = "split-ride",
            lines = new[] { new { sku = "SKU-1", quantity = 3, name = "Socks" } },
            shipTo = new { name = "Ada", line1 = "Main St 1", city = "Berlin", postalCode = "10115", countryCode = "de" },
        };
        var id = (await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/orders", body), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        await WaitForStatusAsync(tpl, id, "awaiting_shipment");

        var partly = await ApiAssert.Json(await tpl.PostAsJsonAsync($"/v1/orders/{id}/ship", new { carrier = "DHL", service = "Paket", trackingNumber = "S-1", lines = new[] { new { sku = "SKU-1", quantity = 1 } } }), HttpStatusCode.OK);
        Assert.Equal("partially_shipped", partly.GetProperty("status").GetString());
        var whole = await ShipAsync(tpl, id, "S-2");
        Assert.Equal("shipped", whole.GetProperty("status").GetString());

        var second = whole.GetProperty("shipments")[1].GetProperty("id").GetString()!;
        var expected = new[] { $"{UsageRows.Prefix}{Month}|{connection}|{id}", $"{UsageRows.Prefix}{Month}|{connection}|{id}|{second}" };
        var lines = await LinesAsync(app, OrderIndex.ThreePlPartition(threePl));
        Assert.Equal(expected, lines.Select(l => l.RowKey).Order(StringComparer.Ordinal));
        Assert.Equal(["S-1", "S-2"], lines.OrderBy(l => l.RowKey, StringComparer.Ordinal).Select(l => l.GetString("TrackingNumber")));
        var before = lines.Select(Describe).ToList();

        // A repair that syncs the order again (its rows already at this version, or rewritten) leaves the same two rows.
        await app.Services.GetRequiredService<OrderIndex>().SyncAsync(OrderId.Parse(id), CancellationToken.None);
        var stored = await OrderAsync(app, id);
        var listRow = await app.Services.GetRequiredService<OrderStore>().Table.GetEntityAsync<TableEntity>(OrderIndex.ThreePlPartition(threePl), OrderIndex.ThreePlRowKey(ConnectionId.Parse(connection), stored.Order.Id));
        await app.Services.GetRequiredService<OrderStore>().Table.UpdateEntityAsync(new TableEntity(listRow.Value.PartitionKey, listRow.Value.RowKey) { ["Version"] = 1L }, listRow.Value.ETag, TableUpdateMode.Merge);
        await app.Services.GetRequiredService<OrderIndex>().SyncAsync(stored, expectNew: false, CancellationToken.None);
        var after = await LinesAsync(app, OrderIndex.ThreePlPartition(threePl));
        Assert.Equal(before, after.Select(Describe).ToList());
        Assert.Equal(2, (await UsageWithAsync(tpl, 2)).GetProperty("totalShipments").GetInt32());
        await SettledAsync(app);
        Assert.Empty(await BillingRowsAsync(app, id));
    }

    [Fact]
    public async Task An_order_stored_apart_still_bills_in_the_billing_table()
    {
        using var app = new TestApp(azurite);
        using var parties = await ConnectedAsync(app);
        var (shop, tpl, merchant, threePl, connection) = parties;
        var id = OrderId.Parse(OrderStore.IdFor(merchant, "apart-bill").Own);
        var draft = OrderDraft.Validate("apart-bill", [new OrderLine("SKU-1", 2, "Socks")], new Address("Ada", "Main St 1", null, "Berlin", "10115", null, "DE", null, null), null, null).Draft!;
        var (order, received) = Order.Create(id, merchant, draft, DateTimeOffset.UtcNow);
        var stored = await app.Services.GetRequiredService<OrderStore>().TryCreateAsync(new StoredOrder(order, null, [], default), [received], null, CancellationToken.None);
        await app.Services.GetRequiredService<OrderIndex>().SyncAsync(stored!, expectNew: true, CancellationToken.None);
        await ApiAssert.Json(await shop.PostAsJsonAsync($"/v1/orders/{id}/delegate", new { connectionId = connection }), HttpStatusCode.OK);

        await ShipAsync(tpl, id.Value, "A-1");

        var usage = await UsageWithAsync(tpl, 1);
        Assert.Equal(id.Value, usage.GetProperty("connections")[0].GetProperty("lines")[0].GetProperty("orderId").GetString());
        Assert.Single(await BillingRowsAsync(app, id.Value));
        Assert.Empty(await LinesAsync(app, OrderIndex.ThreePlPartition(threePl)));
    }

    [Fact]
    public async Task The_report_merges_both_places_once_per_shipment_a_scoped_key_sees_its_connection_and_no_tenant_sees_another()
    {
        using var app = new TestApp(azurite);
        var threePlAccount = await Seed.AccountAsync(app, "threepl");
        var merchantAccountA = await Seed.AccountAsync(app, "merchant");
        var merchantB = await Seed.AccountAsync(app, "merchant");
        var connectionA = await Connect.ActiveAsync(app, threePlAccount, merchantAccountA);
        var connectionB = await Connect.ActiveAsync(app, threePlAccount, merchantB);
        var (threePl, merchantA) = (AccountId.Parse(threePlAccount.Id), AccountId.Parse(merchantAccountA.Id));
        using var tpl = app.WithKey(threePlAccount.ApiKey);
        using var shopA = app.WithKey(merchantAccountA.ApiKey);
        using var shopB = app.WithKey(merchantB.ApiKey);
        var rodeA = await RoutedAsync(shopA, tpl, "merge-a");
        var rodeB = await RoutedAsync(shopB, tpl, "merge-b");
        await ShipAsync(tpl, rodeA, "MA");
        await ShipAsync(tpl, rodeB, "MB");
        // Another 3PL, with a shipment of its own billed to it: the first one's partitions never hold it.
        using var other = await ConnectedAsync(app);
        var (otherShop, otherTpl, _, _, _) = other;
        var foreign = await RoutedAsync(otherShop, otherTpl, "foreign");
        await ShipAsync(otherTpl, foreign, "F");

        // As the billing table holds them for shipments billed before lines rode: one of an order stored apart, and the
        // line of a shipment that rode too (its event was committed before the upgrade, its list row written after).
        var recorder = app.Services.GetRequiredService<UsageStore>();
        var now = DateTimeOffset.UtcNow;
        var apart = OrderId.New();
        await recorder.TryRecordAsync(new UsageLine(threePl, SettingsOwner.ThreePl, apart, "apart", ConnectionId.Parse(connectionA), merchantA, threePl, now, "UPS", "Ground", "OLD"), now, CancellationToken.None);
        var riddenA = (await OrderAsync(app, rodeA)).Order;
        await recorder.TryRecordAsync(new UsageLine(threePl, SettingsOwner.ThreePl, riddenA.Id, riddenA.ExternalId, ConnectionId.Parse(connectionA), merchantA, threePl, riddenA.Shipments[0].ShippedAt, "DHL", "Paket", "MA"), now, CancellationToken.None);

        var usage = await UsageAsync(tpl);
        Assert.Equal(3, usage.GetProperty("totalShipments").GetInt32());
        var byConnection = usage.GetProperty("connections").EnumerateArray().ToDictionary(c => c.GetProperty("connectionId").GetString()!, c => c.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("orderId").GetString()!).ToList());
        Assert.Equal(new[] { apart.Value, rodeA }.Order(), byConnection[connectionA].Order());
        Assert.Equal([rodeB], byConnection[connectionB]);
        Assert.DoesNotContain(foreign, byConnection.Values.SelectMany(v => v));
        Assert.Equal(usage.GetRawText(), (await UsageAsync(tpl)).GetRawText());

        var scoped = await ApiAssert.Json(await tpl.PostAsJsonAsync("/v1/api-keys", new { name = "client b", permissions = new[] { "billing:read" }, connectionId = connectionB }), HttpStatusCode.Created);
        using var scopedClient = app.WithKey(scoped.GetProperty("key").GetString()!);
        var scopedUsage = await UsageAsync(scopedClient);
        Assert.Equal(rodeB, Assert.Single(Assert.Single(scopedUsage.GetProperty("connections").EnumerateArray()).GetProperty("lines").EnumerateArray()).GetProperty("orderId").GetString());

        var otherUsage = await UsageAsync(otherTpl);
        Assert.Equal(foreign, Assert.Single(Assert.Single(otherUsage.GetProperty("connections").EnumerateArray()).GetProperty("lines").EnumerateArray()).GetProperty("orderId").GetString());
        foreach (var merchantClient in new[] { shopA, shopB, otherShop })
        {
            Assert.Equal(0, (await UsageAsync(merchantClient)).GetProperty("totalShipments").GetInt32());
        }
    }

    /// <summary>A merchant connected to a 3PL, with a client for each.</summary>
    private static async Task<Parties> ConnectedAsync(TestApp app)
    {
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var connection = await Connect.ActiveAsync(app, threePl, merchant);
        return new Parties(app.WithKey(merchant.ApiKey), app.WithKey(threePl.ApiKey), AccountId.Parse(merchant.Id), AccountId.Parse(threePl.Id), connection);
    }

    private sealed record Parties(HttpClient Shop, HttpClient Tpl, AccountId Merchant, AccountId ThreePl, string Connection) : IDisposable
    {
        public void Dispose()
        {
            Shop.Dispose();
            Tpl.Dispose();
        }
    }

    private static async Task<string> RoutedAsync(HttpClient shop, HttpClient tpl, string externalId)
    {
        var id = (await SubmitAsync(shop, externalId)).GetProperty("id").GetString()!;
        await WaitForStatusAsync(tpl, id, "awaiting_shipment");
        return id;
    }

    private static async Task<System.Text.Json.JsonElement> ShipAsync(HttpClient tpl, string id, string trackingNumber) =>
        await ApiAssert.Json(await tpl.PostAsJsonAsync($"/v1/orders/{id}/ship", new { carrier = "DHL", service = "Paket", trackingNumber }), HttpStatusCode.OK);

    private static async Task<StoredOrder> OrderAsync(TestApp app, string id) =>
        (await app.Services.GetRequiredService<OrderStore>().GetAsync(OrderId.Parse(id)))!;

    private static async Task<System.Text.Json.JsonElement> UsageAsync(HttpClient client) =>
        await ApiAssert.Json(await client.GetAsync($"/v1/billing/usage?month={Month}"), HttpStatusCode.OK);

    private static async Task<System.Text.Json.JsonElement> UsageWithAsync(HttpClient client, int shipments) =>
        (await Eventually.Get<System.Text.Json.JsonElement?>(async () =>
        {
            var usage = await UsageAsync(client);
            return usage.GetProperty("totalShipments").GetInt32() >= shipments ? usage : null;
        }, $"{shipments} usage lines"))!.Value;

    /// <summary>Every follow-up consumed, so whatever billing would insert has been inserted.</summary>
    private static Task SettledAsync(TestApp app) =>
        Eventually.True(async () => await app.Services.GetRequiredService<Azure.Storage.Queues.QueueServiceClient>()
            .GetQueueClient(app.Services.GetRequiredService<StorageNames>().Queue(OrderFollowUpMessage.Queue)).ApproximateCountAsync() == 0, "the follow-ups to be consumed");

    private static async Task<List<TableEntity>> LinesAsync(TestApp app, string partition)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {UsageRows.Prefix} and RowKey lt {"~b}"}");
        var rows = new List<TableEntity>();
        await foreach (var row in app.Services.GetRequiredService<OrderStore>().Table.QueryAsync<TableEntity>(filter))
        {
            rows.Add(row);
        }
        return rows;
    }

    private static async Task<List<TableEntity>> BillingRowsAsync(TestApp app, string orderId)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in app.Services.GetRequiredService<UsageStore>().Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"OrderId eq {orderId}")))
        {
            rows.Add(row);
        }
        return rows;
    }

    private static string Describe(TableEntity row) =>
        string.Join(";", row.Keys.Where(k => k is not ("Timestamp" or "odata.etag")).Order(StringComparer.Ordinal).Select(k => $"{k}={row[k]}"));

    /// <summary>Fails the first table <c>$batch</c> whose body contains <paramref name="marker"/> after <see cref="Arm"/>, as a storage outage would.</summary>
    private sealed class FailsOneBatch(string marker) : HttpPipelinePolicy
    {
        private int _armed;
        private int _failed;

        public int Failed => Volatile.Read(ref _failed);

        public void Arm() => Volatile.Write(ref _armed, 1);

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            FailIfArmed(message);
            ProcessNext(message, pipeline);
        }

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            FailIfArmed(message);
            await ProcessNextAsync(message, pipeline);
        }

        private void FailIfArmed(HttpMessage message)
        {
            if (Volatile.Read(ref _armed) == 0 || !message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal) || message.Request.Content is null)
            {
                return;
            }
            using var body = new MemoryStream();
            message.Request.Content.WriteTo(body, CancellationToken.None);
            if (Encoding.UTF8.GetString(body.ToArray()).Contains(marker, StringComparison.Ordinal) && Interlocked.Exchange(ref _armed, 0) == 1)
            {
                Interlocked.Increment(ref _failed);
                throw new RequestFailedException(503, "Injected: the storage service is unavailable.");
            }
        }
    }
}
