using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.DependencyInjection;
using ThreePL.Domain.Common;
using ThreePL.Functions.Billing;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;
using ThreePL.Functions.Tests.Infrastructure;
using static ThreePL.Functions.Tests.Orders.OrderTestKit;

namespace ThreePL.Functions.Tests.Billing;

[Collection("azurite")]
public sealed class BillingTests(AzuriteFixture azurite) : IDisposable
{
    private readonly TestApp _app = new(azurite);

    public void Dispose() => _app.Dispose();

    private static string Month => DateTimeOffset.UtcNow.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A delegated order of <paramref name="merchant"/>, shipped by <paramref name="threePl"/>; returns its id.</summary>
    private static async Task<string> ShippedOrderAsync(HttpClient merchant, HttpClient threePl, string externalId)
    {
        var id = (await SubmitAsync(merchant, externalId)).GetProperty("id").GetString()!;
        await WaitForStatusAsync(threePl, id, "awaiting_shipment");
        await ApiAssert.Json(await threePl.PostAsJsonAsync($"/v1/orders/{id}/ship", new { carrier = "DHL", service = "Paket", trackingNumber = "TRK-" + externalId }), HttpStatusCode.OK);
        return id;
    }

    private static async Task<JsonElement> UsageAsync(HttpClient client, string? month = null) =>
        await ApiAssert.Json(await client.GetAsync($"/v1/billing/usage?month={month ?? Month}"), HttpStatusCode.OK);

    private static Task<JsonElement> UsageWithAsync(HttpClient client, int shipments) =>
        Eventually.Get<JsonElement?>(async () =>
        {
            var usage = await UsageAsync(client);
            return usage.GetProperty("totalShipments").GetInt32() >= shipments ? usage : null;
        }, $"{shipments} usage lines").ContinueWith(t => t.Result!.Value, TaskScheduler.Default);

    [Fact]
    public async Task Shipping_bills_the_account_the_order_snapshot_names_and_each_party_reads_only_its_own_lines()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var paysItself = await Seed.AccountAsync(_app, "merchant");
        var billedShop = await Seed.AccountAsync(_app, "merchant");
        var toPaysItself = await Connect.ActiveAsync(_app, threePl, paysItself);
        var toBilledShop = await Connect.ActiveAsync(_app, threePl, billedShop);
        using var tpl = _app.WithKey(threePl.ApiKey);
        using var paysItselfClient = _app.WithKey(paysItself.ApiKey);
        using var billedShopClient = _app.WithKey(billedShop.ApiKey);
        await ApiAssert.Json(await tpl.PatchJson($"/v1/connections/{toBilledShop}/settings", new { orderFeeBilledTo = "merchant" }), HttpStatusCode.OK);

        var first = await ShippedOrderAsync(paysItselfClient, tpl, "b-1");
        var second = await ShippedOrderAsync(paysItselfClient, tpl, "b-2");
        var third = await ShippedOrderAsync(billedShopClient, tpl, "b-3");
        // A settings change after delegation does not move the fee of an order already delegated.
        var delegatedBefore = (await SubmitAsync(billedShopClient, "b-4")).GetProperty("id").GetString()!;
        await WaitForStatusAsync(tpl, delegatedBefore, "awaiting_shipment");
        await ApiAssert.Json(await tpl.PatchJson($"/v1/connections/{toBilledShop}/settings", new { orderFeeBilledTo = "threepl" }), HttpStatusCode.OK);
        await ApiAssert.Json(await tpl.PostAsJsonAsync($"/v1/orders/{delegatedBefore}/ship", new { carrier = "UPS", service = "Express", trackingNumber = "1Z" }), HttpStatusCode.OK);

        var tplUsage = await UsageWithAsync(tpl, 2);
        var shopUsage = await UsageWithAsync(billedShopClient, 2);
        Assert.Equal(threePl.Id, tplUsage.GetProperty("accountId").GetString());
        var connection = Assert.Single(tplUsage.GetProperty("connections").EnumerateArray());
        Assert.Equal(toPaysItself, connection.GetProperty("connectionId").GetString());
        Assert.Equal(2, connection.GetProperty("shipments").GetInt32());
        Assert.Equal(new[] { first, second }.Order(), connection.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("orderId").GetString()).Order());
        var line = connection.GetProperty("lines")[0];
        Assert.Equal("threepl", line.GetProperty("billedTo").GetString());
        Assert.Equal("DHL", line.GetProperty("carrier").GetString());
        Assert.Equal("Paket", line.GetProperty("service").GetString());
        Assert.StartsWith("b-", line.GetProperty("externalId").GetString());

        var shopConnection = Assert.Single(shopUsage.GetProperty("connections").EnumerateArray());
        Assert.Equal(toBilledShop, shopConnection.GetProperty("connectionId").GetString());
        Assert.Equal(new[] { third, delegatedBefore }.Order(), shopConnection.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("orderId").GetString()).Order());
        Assert.All(shopConnection.GetProperty("lines").EnumerateArray(), l => Assert.Equal("merchant", l.GetProperty("billedTo").GetString()));

        // The merchant whose fee the 3PL pays sees nothing billed to it.
        Assert.Equal(0, (await UsageAsync(paysItselfClient)).GetProperty("totalShipments").GetInt32());
        Assert.Equal(0, (await UsageAsync(tpl, "2001-01")).GetProperty("totalShipments").GetInt32());

        // A key scoped to one connection reads that connection's lines only.
        var scoped = await ApiAssert.Json(await tpl.PostAsJsonAsync("/v1/api-keys", new { name = "one client", permissions = new[] { "billing:read" }, connectionId = toBilledShop }), HttpStatusCode.Created);
        using var scopedClient = _app.WithKey(scoped.GetProperty("key").GetString()!);
        Assert.Equal(0, (await UsageAsync(scopedClient)).GetProperty("totalShipments").GetInt32());
        var noBilling = await ApiAssert.Json(await tpl.PostAsJsonAsync("/v1/api-keys", new { name = "orders", permissions = new[] { "orders:read" } }), HttpStatusCode.Created);
        using var noBillingClient = _app.WithKey(noBilling.GetProperty("key").GetString()!);
        await ApiAssert.Problem(await noBillingClient.GetAsync($"/v1/billing/usage?month={Month}"), HttpStatusCode.Forbidden, "missing_permission");
    }

    [Fact]
    public async Task Usage_is_counted_once_under_duplicate_ship_calls_and_queue_redelivery()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var merchant = await Seed.AccountAsync(_app, "merchant");
        await Connect.ActiveAsync(_app, threePl, merchant);
        using var tpl = _app.WithKey(threePl.ApiKey);
        using var shop = _app.WithKey(merchant.ApiKey);
        var id = (await SubmitAsync(shop, "dup-ship")).GetProperty("id").GetString()!;
        await WaitForStatusAsync(tpl, id, "awaiting_shipment");

        var ships = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            tpl.PostAsJsonAsync($"/v1/orders/{id}/ship", new { carrier = "DHL", service = "Paket", trackingNumber = "T1" })));
        // The same tracking number is the same shipment: every call answers 200 with the one shipment.
        var answers = await Task.WhenAll(ships.Select(r => ApiAssert.Json(r, HttpStatusCode.OK)));
        Assert.All(answers, a => Assert.Single(a.GetProperty("shipments").EnumerateArray()));
        Assert.Single(answers.Select(a => a.GetProperty("version").GetInt64()).Distinct());
        await ApiAssert.Problem(await tpl.PostAsJsonAsync($"/v1/orders/{id}/ship", new { carrier = "DHL", service = "Paket", trackingNumber = "T2" }), HttpStatusCode.Conflict, "invalid_transition");
        await UsageWithAsync(tpl, 1);

        // The order.shipped event published again (a redelivered events message does this): still one line.
        var shippedEvent = new ThreePL.Functions.Messaging.EventEnvelope("evt_test_" + Guid.NewGuid().ToString("N"), "order.shipped", DateTimeOffset.UtcNow,
            answers[0].GetProperty("connectionId").GetString(), id, [merchant.Id, threePl.Id], answers[0]);
        var publisher = _app.Services.GetRequiredService<ThreePL.Functions.Messaging.IEventPublisher>();
        for (var i = 0; i < 3; i++)
        {
            await publisher.PublishAsync(shippedEvent, redelivered: true, CancellationToken.None);
        }
        await UsageWithAsync(tpl, 1);

        // Redelivery of a usage message an earlier version sent through the billing queue, and the function run by hand on it.
        var names = _app.Services.GetRequiredService<StorageNames>();
        var queue = _app.Services.GetRequiredService<QueueServiceClient>().GetQueueClient(names.Queue("billing"));
        var message = JsonSerializer.Serialize(new { orderId = id });
        for (var i = 0; i < 3; i++)
        {
            await queue.SendMessageAsync(message);
        }
        var function = ActivatorUtilities.CreateInstance<RecordUsageFunction>(_app.Services);
        for (var i = 0; i < 3; i++)
        {
            await function.HandleAsync(new QueueDelivery(message, "redelivered-" + i, 2 + i, DateTimeOffset.UtcNow), CancellationToken.None);
        }
        await Eventually.True(async () => await queue.ApproximateCountAsync() == 0, "the re-sent billing messages to be consumed");

        var usage = await UsageAsync(tpl);
        Assert.Equal(1, usage.GetProperty("totalShipments").GetInt32());
        var line = Assert.Single(Assert.Single(usage.GetProperty("connections").EnumerateArray()).GetProperty("lines").EnumerateArray());
        Assert.Equal(id, line.GetProperty("orderId").GetString());
        var table = azurite.Tables.GetTableClient(names.Table("billing"));
        var rows = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"OrderId eq {id}")))
        {
            rows++;
        }
        // The line rode with the 3PL's list row; the event without usage and the old messages billed it in the billing
        // table too, under the same key behind the month, and the report above counts it once.
        Assert.Equal(1, rows);
    }

    [Fact]
    public async Task A_crash_after_the_ship_commit_still_bills_exactly_once()
    {
        var first = new TestApp(azurite, services: TestApp.DiesAfterEachCommit(TimeSpan.FromSeconds(2)));
        var threePl = await Seed.AccountAsync(first, "threepl");
        var merchant = await Seed.AccountAsync(first, "merchant");
        await Connect.ActiveAsync(first, threePl, merchant);
        string id;
        using (var shop = first.WithKey(merchant.ApiKey))
        using (var tpl = first.WithKey(threePl.ApiKey))
        {
            id = (await SubmitAsync(shop, "crash-bill")).GetProperty("id").GetString()!;
            await WaitForStatusAsync(tpl, id, "awaiting_shipment");
            await ApiAssert.Json(await tpl.PostAsJsonAsync($"/v1/orders/{id}/ship", new { carrier = "DHL", service = "Paket", trackingNumber = "T" }), HttpStatusCode.OK);
        }
        first.Dispose();

        // The order.shipped event rode only on the ship's history row; its follow-up message, unreleased, publishes it after its delay.
        using var second = new TestApp(azurite, prefix: first.Prefix);
        using var tplAgain = second.WithKey(threePl.ApiKey);
        var usage = await UsageWithAsync(tplAgain, 1);
        Assert.Equal(1, usage.GetProperty("totalShipments").GetInt32());
        Assert.Equal(id, usage.GetProperty("connections")[0].GetProperty("lines")[0].GetProperty("orderId").GetString());
    }

    /// <summary>The billing subscriber, as the publication of an event runs it.</summary>
    private BillShipments Subscriber => _app.Services.GetServices<IEventSubscriber>().OfType<BillShipments>().Single();

    /// <summary>The billing rows of an order, as stored: keys and every column but the write times.</summary>
    private async Task<List<string>> BillingRowsAsync(string orderId)
    {
        var table = azurite.Tables.GetTableClient(_app.Services.GetRequiredService<StorageNames>().Table(UsageStore.TableName));
        var rows = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"OrderId eq {orderId}")))
        {
            var columns = row.Keys.Where(k => k is not ("RecordedAt" or "Timestamp" or "odata.etag")).Order(StringComparer.Ordinal).Select(k => $"{k}={row[k]}");
            rows.Add(string.Join(";", columns));
        }
        rows.Sort(StringComparer.Ordinal);
        return rows;
    }

    [Fact]
    public async Task A_shipped_event_that_carries_its_usage_is_billed_from_it_alone_and_once_however_often_it_comes()
    {
        var threePl = AccountId.New().Value;
        var merchant = AccountId.New().Value;
        var connection = ConnectionId.New().Value;
        // No such order is stored: the line can only come from the event.
        var order = OrderId.New().Value;
        var shippedAt = new DateTimeOffset(2026, 11, 30, 23, 59, 0, TimeSpan.Zero);
        ShipmentUsage Usage(string shipmentId, bool first) => new(merchant, "merchant", order, "ext-carried", connection, merchant, threePl, shipmentId, first, shippedAt, "DHL", "Paket", "T-" + shipmentId);
        EventEnvelope Shipped(ShipmentUsage usage) => EventEnvelope.Parse(JsonSerializer.Serialize(
            new EventEnvelope("evt_test_" + Guid.NewGuid().ToString("N"), BillShipments.ShippedType, shippedAt, connection, order, [merchant, threePl], JsonSerializer.SerializeToElement(new { id = order }))
            {
                Usage = usage,
            }, EventEnvelope.Json));
        var first = Shipped(Usage("shp_first", first: true));
        var second = Shipped(Usage("shp_second", first: false));

        for (var i = 0; i < 3; i++)
        {
            await Subscriber.OnEventAsync(first, CancellationToken.None);
            await Subscriber.OnEventAsync(second, CancellationToken.None);
        }

        var rows = await BillingRowsAsync(order);
        Assert.Equal(2, rows.Count);
        Assert.Equal(
            $"BilledTo=merchant;Carrier=DHL;ConnectionId={connection};ExternalId=ext-carried;MerchantAccountId={merchant};OrderId={order};PartitionKey=u|{merchant}|2026-11;"
            + $"RowKey={connection}|{order};Service=Paket;ShippedAt={shippedAt};ThreePlAccountId={threePl};TrackingNumber=T-shp_first", rows[0]);
        Assert.Contains($"RowKey={connection}|{order}|shp_second;", rows[1]);
        Assert.Contains(";ShipmentId=shp_second;", rows[1]);
    }

    /// <summary>
    /// The lines of an order that rode with its rows (<see cref="ThreePL.Functions.Orders.UsageRows"/>) in
    /// <paramref name="partition"/>, described as <see cref="BillingRowsAsync"/> describes the billing table's: the RowKey
    /// behind its month, no PartitionKey (the places differ).
    /// </summary>
    private async Task<List<string>> RodeRowsAsync(string partition, string orderId)
    {
        var table = _app.Services.GetRequiredService<ThreePL.Functions.Orders.OrderStore>().Table;
        var prefix = ThreePL.Functions.Orders.UsageRows.Prefix;
        var rows = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {prefix} and RowKey lt {"~b}"} and OrderId eq {orderId}")))
        {
            rows.Add(Describe(row, row.RowKey[(prefix.Length + Month.Length + 1)..]));
        }
        rows.Sort(StringComparer.Ordinal);
        return rows;
    }

    private static string Describe(TableEntity row, string rowKey) =>
        string.Join(";", row.Keys.Where(k => k is not ("RecordedAt" or "Timestamp" or "odata.etag" or "PartitionKey" or "RowKey")).Append("RowKey")
            .Order(StringComparer.Ordinal).Select(k => k == "RowKey" ? $"RowKey={rowKey}" : $"{k}={row[k]}"));

    [Fact]
    public async Task A_shipped_event_committed_before_events_carried_the_usage_is_billed_from_the_order_with_the_same_line_and_key_as_the_one_that_rode()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var merchant = await Seed.AccountAsync(_app, "merchant");
        var connection = await Connect.ActiveAsync(_app, threePl, merchant);
        using var tpl = _app.WithKey(threePl.ApiKey);
        using var shop = _app.WithKey(merchant.ApiKey);
        await ApiAssert.Json(await tpl.PatchJson($"/v1/connections/{connection}/settings", new { orderFeeBilledTo = "merchant" }), HttpStatusCode.OK);
        var id = (await SubmitAsync(shop, "old-shape")).GetProperty("id").GetString()!;
        await WaitForStatusAsync(tpl, id, "awaiting_shipment");
        var partly = await ApiAssert.Json(await tpl.PostAsJsonAsync($"/v1/orders/{id}/ship", new { carrier = "DHL", service = "Paket", trackingNumber = "OLD-1", lines = new[] { new { sku = "SKU-1", quantity = 1 } } }), HttpStatusCode.OK);
        var whole = await ApiAssert.Json(await tpl.PostAsJsonAsync($"/v1/orders/{id}/ship", new { carrier = "UPS", service = "Ground", trackingNumber = "OLD-2" }), HttpStatusCode.OK);
        await UsageWithAsync(shop, 2);
        // The order is in its merchant's partition and the merchant pays: both lines rode in the ships' commits.
        var rode = await RodeRowsAsync(ThreePL.Functions.Orders.OrderIndex.MerchantPartition(AccountId.Parse(merchant.Id)), id);
        Assert.Equal(2, rode.Count);

        // As if both events had been committed by a version that sent ids only and were still to be billed.
        foreach (var data in new[] { partly, whole, partly, whole })
        {
            var shipped = new EventEnvelope("evt_test_" + Guid.NewGuid().ToString("N"), BillShipments.ShippedType, DateTimeOffset.UtcNow, connection, id, [merchant.Id, threePl.Id], data);
            Assert.DoesNotContain("usage", JsonSerializer.Serialize(shipped, EventEnvelope.Json), StringComparison.Ordinal);
            await Subscriber.OnEventAsync(EventEnvelope.Parse(JsonSerializer.Serialize(shipped, EventEnvelope.Json)), CancellationToken.None);
        }

        var table = azurite.Tables.GetTableClient(_app.Services.GetRequiredService<StorageNames>().Table(UsageStore.TableName));
        var fromOrder = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"OrderId eq {id}")))
        {
            Assert.Equal($"u|{merchant.Id}|{Month}", row.PartitionKey);
            fromOrder.Add(Describe(row, row.RowKey));
        }
        fromOrder.Sort(StringComparer.Ordinal);
        Assert.Equal(rode, fromOrder);
        // In both places now, and still one line per shipment in the report.
        Assert.Equal(2, (await UsageAsync(shop)).GetProperty("totalShipments").GetInt32());
    }

    [Fact]
    public async Task Csv_has_a_header_row_and_escapes_fields()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var merchant = await Seed.AccountAsync(_app, "merchant");
        var connection = await Connect.ActiveAsync(_app, threePl, merchant);
        using var tpl = _app.WithKey(threePl.ApiKey);
        using var shop = _app.WithKey(merchant.ApiKey);
        var id = await ShippedOrderAsync(shop, tpl, "=HYPERLINK(\"http://x\"),\"quoted\"");
        await UsageWithAsync(tpl, 1);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/billing/usage?month={Month}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        var response = await tpl.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n");
        Assert.Equal("connectionId,orderId,externalId,shippedAt,carrier,service,trackingNumber,billedTo", lines[0]);
        Assert.StartsWith($"{connection},{id},\"'=HYPERLINK(\"\"http://x\"\"),\"\"quoted\"\"\",", lines[1]);
        Assert.EndsWith(",DHL,Paket,\"TRK-=HYPERLINK(\"\"http://x\"\"),\"\"quoted\"\"\",threepl", lines[1]);
        Assert.Equal("", lines[2]);
        Assert.Equal(3, lines.Length);

        // JSON stays the default, and wins when preferred.
        using var json = new HttpRequestMessage(HttpMethod.Get, $"/v1/billing/usage?month={Month}");
        json.Headers.Accept.ParseAdd("application/json, text/csv;q=0.5");
        Assert.Equal("application/json", (await tpl.SendAsync(json)).Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("")]
    [InlineData("2026-13")]
    [InlineData("2026-00")]
    [InlineData("2026-1")]
    [InlineData("26-11")]
    [InlineData("2026/11")]
    [InlineData("2026-11-01")]
    [InlineData("1999-12")]
    [InlineData("2026-11%0A")]
    [InlineData("2026-11' or PartitionKey ne '")]
    [InlineData("%00")]
    [InlineData("２０２６-11")]
    public async Task A_bad_month_is_a_400_naming_the_field(string month)
    {
        var merchant = await Seed.AccountAsync(_app, "merchant");
        using var shop = _app.WithKey(merchant.ApiKey);
        var problem = await ApiAssert.Problem(await shop.GetAsync("/v1/billing/usage?month=" + month), HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty("month", out _));
        var missing = await ApiAssert.Problem(await shop.GetAsync("/v1/billing/usage"), HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(missing.GetProperty("errors").TryGetProperty("month", out _));
    }
}
