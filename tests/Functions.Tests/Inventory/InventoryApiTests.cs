using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ThreePL.Functions.Tests.Infrastructure;
using static ThreePL.Functions.Tests.Orders.OrderTestKit;

namespace ThreePL.Functions.Tests.Inventory;

[Collection("azurite")]
public sealed class InventoryApiTests(AzuriteFixture azurite) : IDisposable
{
    private readonly TestApp _app = new(azurite);

    public void Dispose() => _app.Dispose();

    private static object Items(params (string Sku, long OnHand)[] items) => new { items = items.Select(i => new { sku = i.Sku, onHand = i.OnHand }).ToArray() };

    private static async Task<List<JsonElement>> ReadAllAsync(HttpClient client, string query = "", int limit = 200)
    {
        var items = new List<JsonElement>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var url = $"/v1/inventory?limit={limit}{query}" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            var page = await ApiAssert.Json(await client.GetAsync(url), HttpStatusCode.OK);
            items.AddRange(page.GetProperty("items").EnumerateArray().Select(e => e.Clone()));
            cursor = page.GetProperty("nextCursor").GetString();
            Assert.True(++pages < 100, "paging does not end");
        }
        while (cursor is not null);
        return items;
    }

    [Fact]
    public async Task A_merchant_sees_the_counts_of_the_3pls_that_serve_it_and_nobody_else_does()
    {
        var east = await Seed.AccountAsync(_app, "threepl");
        var west = await Seed.AccountAsync(_app, "threepl");
        var shop = await Seed.AccountAsync(_app, "merchant");
        var stranger = await Seed.AccountAsync(_app, "merchant");
        var eastShop = await Connect.ActiveAsync(_app, east, shop);
        var westShop = await Connect.ActiveAsync(_app, west, shop);
        var eastStranger = await Connect.ActiveAsync(_app, east, stranger);
        using var eastClient = _app.WithKey(east.ApiKey);
        using var westClient = _app.WithKey(west.ApiKey);
        using var shopClient = _app.WithKey(shop.ApiKey);
        using var strangerClient = _app.WithKey(stranger.ApiKey);

        var reported = await ApiAssert.Json(await eastClient.PutAsJsonAsync($"/v1/connections/{eastShop}/inventory", Items(("SOCK-RED", 5), ("SOCK/BLUE#'1?", 0), ("HAT", 12))), HttpStatusCode.OK);
        Assert.Equal(3, reported.GetProperty("count").GetInt32());
        await ApiAssert.Json(await westClient.PutAsJsonAsync($"/v1/connections/{westShop}/inventory", Items(("SOCK-RED", 7))), HttpStatusCode.OK);
        await ApiAssert.Json(await eastClient.PutAsJsonAsync($"/v1/connections/{eastStranger}/inventory", Items(("STRANGER-ONLY", 1))), HttpStatusCode.OK);
        // A later report replaces the count of that SKU and leaves the others.
        await ApiAssert.Json(await eastClient.PutAsJsonAsync($"/v1/connections/{eastShop}/inventory", Items(("HAT", 11))), HttpStatusCode.OK);

        var red = await ApiAssert.Json(await shopClient.GetAsync("/v1/inventory?sku=SOCK-RED"), HttpStatusCode.OK);
        var bySource = red.GetProperty("items").EnumerateArray().ToDictionary(i => i.GetProperty("connectionId").GetString()!, i => i);
        Assert.Equal(2, bySource.Count);
        Assert.Equal(5, bySource[eastShop].GetProperty("onHand").GetInt64());
        Assert.Equal(east.Id, bySource[eastShop].GetProperty("threePlAccountId").GetString());
        Assert.Equal(7, bySource[westShop].GetProperty("onHand").GetInt64());
        Assert.True(bySource[westShop].GetProperty("reportedAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));

        var odd = await ApiAssert.Json(await shopClient.GetAsync("/v1/inventory?sku=" + Uri.EscapeDataString("SOCK/BLUE#'1?")), HttpStatusCode.OK);
        Assert.Equal(0, Assert.Single(odd.GetProperty("items").EnumerateArray()).GetProperty("onHand").GetInt64());

        var all = await ReadAllAsync(shopClient, limit: 1);
        Assert.Equal(["HAT:11", "SOCK-RED:5", "SOCK-RED:7", "SOCK/BLUE#'1?:0"], all.Select(i => $"{i.GetProperty("sku").GetString()}:{i.GetProperty("onHand").GetInt64()}").Order(StringComparer.Ordinal));

        // The stranger is served by east too, but only sees what east reported for the stranger.
        Assert.Equal(["STRANGER-ONLY"], (await ReadAllAsync(strangerClient)).Select(i => i.GetProperty("sku").GetString()));
        Assert.Empty((await ApiAssert.Json(await strangerClient.GetAsync("/v1/inventory?sku=SOCK-RED"), HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        Assert.Empty((await ApiAssert.Json(await strangerClient.GetAsync($"/v1/inventory?connectionId={eastShop}"), HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        // West sees its own report only; east sees its reports on both connections.
        Assert.Equal([westShop], (await ReadAllAsync(westClient)).Select(i => i.GetProperty("connectionId").GetString()).Distinct());
        Assert.Equal(4, (await ReadAllAsync(eastClient)).Count);
        Assert.Empty((await ApiAssert.Json(await westClient.GetAsync($"/v1/inventory?connectionId={eastShop}"), HttpStatusCode.OK)).GetProperty("items").EnumerateArray());

        // Only the connection's 3PL writes, and a foreign connection does not exist.
        await ApiAssert.Problem(await shopClient.PutAsJsonAsync($"/v1/connections/{eastShop}/inventory", Items(("SOCK-RED", 999))), HttpStatusCode.Forbidden, "threepl_only");
        await ApiAssert.Problem(await westClient.PutAsJsonAsync($"/v1/connections/{eastShop}/inventory", Items(("SOCK-RED", 999))), HttpStatusCode.NotFound, "not_found");

        // A key scoped to one connection sees that connection only.
        var scoped = await ApiAssert.Json(await shopClient.PostAsJsonAsync("/v1/api-keys", new { name = "east only", permissions = new[] { "inventory:read" }, connectionId = eastShop }), HttpStatusCode.Created);
        using var scopedClient = _app.WithKey(scoped.GetProperty("key").GetString()!);
        Assert.Equal([eastShop], (await ReadAllAsync(scopedClient)).Select(i => i.GetProperty("connectionId").GetString()).Distinct());
        Assert.Empty((await ApiAssert.Json(await scopedClient.GetAsync($"/v1/inventory?connectionId={westShop}"), HttpStatusCode.OK)).GetProperty("items").EnumerateArray());

        // Once disconnected, the merchant no longer sees that 3PL's stock.
        await ApiAssert.Json(await shopClient.PostAsync($"/v1/connections/{westShop}/disconnect", null), HttpStatusCode.OK);
        var after = await ApiAssert.Json(await shopClient.GetAsync("/v1/inventory?sku=SOCK-RED"), HttpStatusCode.OK);
        Assert.Equal([eastShop], after.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("connectionId").GetString()));
        await ApiAssert.Problem(await westClient.PutAsJsonAsync($"/v1/connections/{westShop}/inventory", Items(("SOCK-RED", 1))), HttpStatusCode.Conflict, "connection_not_active");
    }

    [Fact]
    public async Task Routing_with_stocksEveryLine_delegates_to_the_3pl_that_stocks_every_line()
    {
        var full = await Seed.AccountAsync(_app, "threepl");
        var partial = await Seed.AccountAsync(_app, "threepl");
        var shop = await Seed.AccountAsync(_app, "merchant");
        var toFull = await Connect.ActiveAsync(_app, full, shop);
        var toPartial = await Connect.ActiveAsync(_app, partial, shop);
        using var fullClient = _app.WithKey(full.ApiKey);
        using var partialClient = _app.WithKey(partial.ApiKey);
        using var shopClient = _app.WithKey(shop.ApiKey);
        await ApiAssert.Json(await fullClient.PutAsJsonAsync($"/v1/connections/{toFull}/inventory", Items(("MUG", 10), ("TEA", 10))), HttpStatusCode.OK);
        await ApiAssert.Json(await partialClient.PutAsJsonAsync($"/v1/connections/{toPartial}/inventory", Items(("MUG", 50))), HttpStatusCode.OK);
        await ApiAssert.Json(await shopClient.PutAsJsonAsync("/v1/routing-rules", new { rules = new object[] { new { type = "stocksEveryLine" } } }), HttpStatusCode.OK);

        var both = await SubmitLinesAsync(shopClient, "inv-1", ("MUG", 2), ("TEA", 1));
        Assert.Equal(toFull, (await WaitForStatusAsync(shopClient, both, "awaiting_shipment")).GetProperty("connectionId").GetString());
        await ApiAssert.Problem(await partialClient.GetAsync($"/v1/orders/{both}"), HttpStatusCode.NotFound, "not_found");

        // Both stock MUG: the rule names no single 3PL, and with two eligible connections the order stays open.
        var ambiguous = await SubmitLinesAsync(shopClient, "inv-2", ("MUG", 1));
        // Nobody has 11 TEA.
        var tooMany = await SubmitLinesAsync(shopClient, "inv-3", ("MUG", 1), ("TEA", 11));
        // Only the partial 3PL has 40 MUGs.
        var many = await SubmitLinesAsync(shopClient, "inv-4", ("MUG", 40));
        Assert.Equal(toPartial, (await WaitForStatusAsync(shopClient, many, "awaiting_shipment")).GetProperty("connectionId").GetString());
        foreach (var id in new[] { ambiguous, tooMany })
        {
            var order = await ApiAssert.Json(await shopClient.GetAsync($"/v1/orders/{id}"), HttpStatusCode.OK);
            Assert.Equal("open", order.GetProperty("status").GetString());
        }
    }

    private static async Task<string> SubmitLinesAsync(HttpClient shop, string externalId, params (string Sku, int Quantity)[] lines)
    {
        var created = await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/orders", new
        {
            externalId,
            lines = lines.Select(l => new { sku = l.Sku, quantity = l.Quantity }).ToArray(),
            shipTo = new { name = "Ada", line1 = "Main St 1", city = "Berlin", postalCode = "10115", countryCode = "DE" },
        }), HttpStatusCode.Created);
        return created.GetProperty("id").GetString()!;
    }

    public static TheoryData<string> HostileReports => new()
    {
        "{",
        "[]",
        "null",
        "{}",
        "{\"items\":[]}",
        "{\"items\":\"SKU\"}",
        "{\"items\":[null]}",
        "{\"items\":[{\"sku\":\"A\"}]}",
        "{\"items\":[{\"sku\":\"A\",\"onHand\":-1}]}",
        "{\"items\":[{\"sku\":\"A\",\"onHand\":1000000001}]}",
        "{\"items\":[{\"sku\":\"A\",\"onHand\":1.5}]}",
        "{\"items\":[{\"sku\":\"A\",\"onHand\":\"5\"}]}",
        "{\"items\":[{\"sku\":\"A\",\"onHand\":1e30}]}",
        "{\"items\":[{\"sku\":\"A\",\"onHand\":99999999999999999999999}]}",
        "{\"items\":[{\"sku\":\"\",\"onHand\":1}]}",
        "{\"items\":[{\"sku\":\"   \",\"onHand\":1}]}",
        "{\"items\":[{\"sku\":\"a\\u0000b\",\"onHand\":1}]}",
        "{\"items\":[{\"sku\":\"a\\ud800b\",\"onHand\":1}]}",
        "{\"items\":[{\"sku\":5,\"onHand\":1}]}",
        "{\"items\":[{\"sku\":\"" + new string('s', 65) + "\",\"onHand\":1}]}",
        "{\"items\":[{\"sku\":\"A\",\"onHand\":1},{\"sku\":\"A\",\"onHand\":2}]}",
        "{\"items\":[" + string.Join(",", Enumerable.Range(0, 501).Select(i => $"{{\"sku\":\"S{i}\",\"onHand\":1}}")) + "]}",
    };

    [Theory]
    [MemberData(nameof(HostileReports))]
    public async Task Hostile_reports_get_a_4xx_problem_and_change_nothing(string body)
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var shop = await Seed.AccountAsync(_app, "merchant");
        var connection = await Connect.ActiveAsync(_app, threePl, shop);
        using var client = _app.WithKey(threePl.ApiKey);
        var response = await client.PutAsync($"/v1/connections/{connection}/inventory", new StringContent(body, Encoding.UTF8, "application/json"));
        await AssertClientProblem(response);
        Assert.Empty(await ReadAllAsync(client));
    }

    [Fact]
    public async Task A_full_batch_of_500_is_accepted_and_hostile_queries_are_4xx_or_empty()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var shop = await Seed.AccountAsync(_app, "merchant");
        var connection = await Connect.ActiveAsync(_app, threePl, shop);
        using var client = _app.WithKey(threePl.ApiKey);
        using var shopClient = _app.WithKey(shop.ApiKey);
        var items = Enumerable.Range(0, 500).Select(i => ($"SKU-{i:D3}", (long)i)).Append(("ÜBER-ÄÖ-€", 1_000_000_000L)).Skip(1).ToArray();
        await ApiAssert.Json(await client.PutAsJsonAsync($"/v1/connections/{connection}/inventory", Items(items)), HttpStatusCode.OK);
        Assert.Equal(500, (await ReadAllAsync(shopClient, limit: 200)).Count);
        var unicode = await ApiAssert.Json(await shopClient.GetAsync("/v1/inventory?sku=" + Uri.EscapeDataString("ÜBER-ÄÖ-€")), HttpStatusCode.OK);
        Assert.Equal(1_000_000_000L, Assert.Single(unicode.GetProperty("items").EnumerateArray()).GetProperty("onHand").GetInt64());

        foreach (var sku in new[] { "' or PartitionKey ne '", "SKU-001' or '1' eq '1", "x') or (RowKey ne '" })
        {
            var page = await ApiAssert.Json(await shopClient.GetAsync("/v1/inventory?sku=" + Uri.EscapeDataString(sku)), HttpStatusCode.OK);
            Assert.Empty(page.GetProperty("items").EnumerateArray());
        }
        foreach (var query in new[]
        {
            "sku=", "sku=" + new string('x', 65), "sku=a%00b", "connectionId=con_' or 1 eq 1", "connectionId=" + new string('c', 5000),
            "cursor=garbage", "cursor=" + Uri.EscapeDataString(connection + "~not-a-token"), "cursor=" + Uri.EscapeDataString("con_00000000000000000000~"),
            "limit=0", "limit=100000", "limit=abc",
        })
        {
            await AssertClientProblem(await shopClient.GetAsync("/v1/inventory?" + query));
        }
        await AssertClientProblem(await client.PutAsJsonAsync("/v1/connections/con_'%20or%20''='/inventory", Items(("A", 1))));
        await AssertClientProblem(await client.PutAsJsonAsync($"/v1/connections/{connection}/inventory", new { items = new[] { new { sku = "A", onHand = 1 } }, extra = new string('x', 300_000) }));
    }

    [Fact]
    public async Task A_pending_connection_takes_no_report_and_permissions_are_checked()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var shop = await Seed.AccountAsync(_app, "merchant");
        var pending = await Connect.InviteAsync(_app, threePl, new { accountId = shop.Id });
        using var client = _app.WithKey(threePl.ApiKey);
        await ApiAssert.Problem(await client.PutAsJsonAsync($"/v1/connections/{pending}/inventory", Items(("A", 1))), HttpStatusCode.Conflict, "connection_not_active");
        var readOnly = await ApiAssert.Json(await client.PostAsJsonAsync("/v1/api-keys", new { name = "ro", permissions = new[] { "inventory:read" } }), HttpStatusCode.Created);
        using var readOnlyClient = _app.WithKey(readOnly.GetProperty("key").GetString()!);
        await ApiAssert.Problem(await readOnlyClient.PutAsJsonAsync($"/v1/connections/{pending}/inventory", Items(("A", 1))), HttpStatusCode.Forbidden, "missing_permission");
        using var shopClient = _app.WithKey(shop.ApiKey);
        var noInventory = await ApiAssert.Json(await shopClient.PostAsJsonAsync("/v1/api-keys", new { name = "orders", permissions = new[] { "orders:read" } }), HttpStatusCode.Created);
        using var noInventoryClient = _app.WithKey(noInventory.GetProperty("key").GetString()!);
        await ApiAssert.Problem(await noInventoryClient.GetAsync("/v1/inventory"), HttpStatusCode.Forbidden, "missing_permission");
        Assert.Empty(await ReadAllAsync(shopClient));
    }

    internal static async Task AssertClientProblem(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode is >= 400 and < 500, $"Expected a 4xx, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"code\"", body, StringComparison.Ordinal);
    }
}
