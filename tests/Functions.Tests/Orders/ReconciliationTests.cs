using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using ThreePL.Domain.Common;
using ThreePL.Functions.Events;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;
using ThreePL.Functions.Orders;
using ThreePL.Functions.Tests.Infrastructure;
using ThreePL.Functions.Tests.Webhooks;
using Xunit.Abstractions;
using static ThreePL.Functions.Tests.Orders.OrderTestKit;

namespace ThreePL.Functions.Tests.Orders;

/// <summary>
/// Reconciliation after an outage: <c>GET /v1/orders?updatedSince=</c> (ordered by change, stable while orders
/// change) and <c>GET /v1/events?since=</c> (the events the account's webhooks were sent), with the settle window
/// shrunk through options and jumped over by the app's clock (<see cref="JumpingClock"/>) rather than waited for.
/// </summary>
[Collection("azurite")]
public sealed class ReconciliationTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);

    private readonly JumpingClock _clock = new();

    private TestApp App() => new(azurite, Settings(), services => services.AddSingleton<TimeProvider>(_clock));

    private static Dictionary<string, string?> Settings() => new() { ["ThreePL:Reconciliation:SettleWindow"] = "00:00:02" };

    private sealed record Item(string Id, long Version, JsonElement Json);

    private static string Time(DateTimeOffset at) => Uri.EscapeDataString(at.ToString("O", CultureInfo.InvariantCulture));

    /// <summary>One run: every page from <paramref name="since"/> until <c>nextCursor</c> is null.</summary>
    private async Task<(List<Item> Items, DateTimeOffset LastRequestAt)> ChangedAsync(HttpClient client, DateTimeOffset since, string query = "", int limit = 200)
    {
        var items = new List<Item>();
        string? cursor = null;
        DateTimeOffset sentAt;
        do
        {
            sentAt = _clock.GetUtcNow();
            var url = $"/v1/orders?updatedSince={Time(since)}&limit={limit}{query}" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            var page = await ApiAssert.Json(await client.GetAsync(url), HttpStatusCode.OK);
            items.AddRange(page.GetProperty("items").EnumerateArray().Select(i => new Item(i.GetProperty("id").GetString()!, i.GetProperty("version").GetInt64(), i.Clone())));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);
        return (items, sentAt);
    }

    private static async Task<List<JsonElement>> EventsAsync(HttpClient client, DateTimeOffset since, int limit = 200)
    {
        var items = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var url = $"/v1/events?since={Time(since)}&limit={limit}" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            var page = await ApiAssert.Json(await client.GetAsync(url), HttpStatusCode.OK);
            items.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.Clone()));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);
        return items;
    }

    private async Task<List<string>> SettledIdsAsync(HttpClient client, DateTimeOffset since, string query = "")
    {
        _clock.Jump(Settle);
        return (await ChangedAsync(client, since, query)).Items.Select(i => i.Id).ToList();
    }

    [Fact]
    public async Task UpdatedSince_paging_while_200_orders_are_updated_misses_none()
    {
        using var app = App();
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        await Connect.ActiveAsync(app, threePl, merchant);
        using var shop = app.WithKey(merchant.ApiKey);
        using var tpl = app.WithKey(threePl.ApiKey);
        var ids = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 200), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
            ids.Add((await SubmitAsync(shop, $"recon-{i}")).GetProperty("id").GetString()!));
        await WaitForRoutingAsync(app);
        await Eventually.True(async () => (await ListIdsAsync(tpl, "&status=awaiting_shipment")).Count == 200, "all 200 orders to be delegated");
        var since = _clock.GetUtcNow();

        // Each order is started, then shipped; the ship answer is its final version and the time it was committed by.
        var final = new ConcurrentDictionary<string, (long Version, DateTimeOffset CommittedBy)>();
        var updates = Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, _) =>
        {
            await ApiAssert.Json(await tpl.PostAsync($"/v1/orders/{id}/start", null), HttpStatusCode.OK);
            var shipped = await ApiAssert.Json(await tpl.PostAsJsonAsync($"/v1/orders/{id}/ship", new { carrier = "DHL", service = "Paket", trackingNumber = id }), HttpStatusCode.OK);
            final[id] = (shipped.GetProperty("version").GetInt64(), _clock.GetUtcNow());
        });

        // The merchant reconciles in runs of small pages, from the same time, while the 3PL works. Once half the orders
        // are final the clock jumps a settle window, so the runs still overlapping the updates have settled orders to
        // check however fast the updates go; once the 3PL is done, it jumps again and one last run follows.
        var runs = new List<(DateTimeOffset StartedAt, DateTimeOffset LastRequestAt, List<Item> Items)>();
        var jumpedHalfWay = false;
        while (true)
        {
            var finished = updates.IsCompleted;
            if (finished || (!jumpedHalfWay && final.Count >= 100))
            {
                _clock.Jump(Settle);
                jumpedHalfWay = true;
            }
            var startedAt = _clock.GetUtcNow();
            var (items, lastRequestAt) = await ChangedAsync(shop, since, limit: 7);
            runs.Add((startedAt, lastRequestAt, items));
            if (finished)
            {
                break;
            }
        }
        await updates;

        // Precisely: in every run, every order whose final change was committed a settle window before the run's last
        // request appears with its final version, whether the run began before, during or after its changes; and no
        // run ever shows a version the order did not have or an order of someone else.
        Assert.Equal(200, final.Count);
        var lastCommit = final.Values.Max(f => f.CommittedBy);
        var checkedDuringUpdates = 0;
        foreach (var (startedAt, lastRequestAt, items) in runs)
        {
            Assert.All(items, i => Assert.True(final.ContainsKey(i.Id) && i.Version is >= 2 and <= 4 && i.Version <= final[i.Id].Version, $"{i.Id} v{i.Version}"));
            var settled = final.Where(f => f.Value.CommittedBy <= lastRequestAt - Settle).ToList();
            var missing = settled.Where(f => !items.Any(i => i.Id == f.Key && i.Version == f.Value.Version)).Select(f => f.Key).ToList();
            Assert.True(missing.Count == 0, $"A run from {startedAt:O} to {lastRequestAt:O} misses the final version of {missing.Count} settled orders: {string.Join(", ", missing.Take(5))}");
            if (startedAt < lastCommit)
            {
                checkedDuringUpdates += settled.Count;
            }
        }
        output.WriteLine($"{runs.Count} runs ({runs.Count(r => r.StartedAt < lastCommit)} began before the last update), "
            + $"{checkedDuringUpdates} final versions checked in those, {runs.Sum(r => r.Items.Count)} items read in all");
        var last = runs[^1].Items;
        Assert.Equal(final.Keys.Order(), last.Select(i => i.Id).Distinct().Order());
        Assert.True(checkedDuringUpdates > 0, $"No run that overlapped the updates had a settled order to check ({runs.Count} runs).");
    }

    [Fact]
    public async Task UpdatedSince_lists_orders_in_the_order_they_changed_and_only_those_changed_since()
    {
        using var app = App();
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        await Connect.ActiveAsync(app, threePl, merchant);
        using var shop = app.WithKey(merchant.ApiKey);
        using var tpl = app.WithKey(threePl.ApiKey);
        var a = (await SubmitAsync(shop, "a")).GetProperty("id").GetString()!;
        var b = (await SubmitAsync(shop, "b")).GetProperty("id").GetString()!;
        var c = (await SubmitAsync(shop, "c")).GetProperty("id").GetString()!;
        var untouched = (await SubmitAsync(shop, "untouched")).GetProperty("id").GetString()!;
        foreach (var id in new[] { a, b, c, untouched })
        {
            await WaitForStatusAsync(tpl, id, "awaiting_shipment");
        }
        // Routing writes the list and change rows after the order row; "since" starts once they are all written.
        await AppIdle.WaitAsync(azurite, app.Prefix);
        var since = _clock.GetUtcNow();

        foreach (var id in new[] { b, a, c })
        {
            await ApiAssert.Json(await tpl.PostAsync($"/v1/orders/{id}/start", null), HttpStatusCode.OK);
        }
        Assert.Equal([b, a, c], await SettledIdsAsync(shop, since));
        Assert.Equal([b, a, c], await SettledIdsAsync(tpl, since));
        Assert.Equal([b, a, c], await SettledIdsAsync(shop, since, "&status=in_progress"));
        Assert.Empty(await SettledIdsAsync(shop, since, "&status=shipped"));

        await ApiAssert.Json(await tpl.PostAsJsonAsync($"/v1/orders/{a}/ship", new { carrier = "DHL", service = "Paket", trackingNumber = "1" }), HttpStatusCode.OK);
        _clock.Jump(Settle);
        var (items, _) = await ChangedAsync(shop, since, limit: 1);
        Assert.Equal([b, c, a], items.Select(i => i.Id));
        Assert.Equal([3L, 3L, 4L], items.Select(i => i.Version));
        Assert.Equal("shipped", items[^1].Json.GetProperty("status").GetString());
        Assert.All(items, i => Assert.True(i.Json.GetProperty("updatedAt").GetDateTimeOffset() >= since));

        // Everything changed since intake, including the untouched order's delegation.
        var all = (await ChangedAsync(shop, since.AddMinutes(-5))).Items.Select(i => i.Id).ToList();
        Assert.Equal(new[] { a, b, c, untouched }.Order(), all.Order());
        Assert.Empty((await ChangedAsync(shop, _clock.GetUtcNow().AddMinutes(1))).Items);
        Assert.Equal(new[] { a, b, c, untouched }.Order(), (await ListIdsAsync(shop)).Order());
    }

    [Fact]
    public async Task Scoped_keys_see_their_connection_and_other_tenants_see_nothing_in_either_feed()
    {
        await using var receiver = await TestReceiver.StartAsync();
        using var app = App();
        var mine = await Seed.AccountAsync(app, "threepl");
        var other = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var stranger = await Seed.AccountAsync(app, "merchant");
        var since = _clock.GetUtcNow();
        var connection = await Connect.ActiveAsync(app, mine, merchant);
        var competing = await Connect.ActiveAsync(app, other, merchant);
        var strangerConnection = await Connect.ActiveAsync(app, mine, stranger);
        using var shop = app.WithKey(merchant.ApiKey);
        using var tpl = app.WithKey(mine.ApiKey);
        using var otherTpl = app.WithKey(other.ApiKey);
        using var strangerShop = app.WithKey(stranger.ApiKey);
        await ApiAssert.Json(await tpl.PatchJson($"/v1/connections/{connection}/settings", new { webhookUrl = receiver.HookUrl }), HttpStatusCode.OK);
        var mineOrder = (await SubmitAsync(shop, "mine")).GetProperty("id").GetString()!;
        var theirs = (await SubmitAsync(shop, "theirs")).GetProperty("id").GetString()!;
        var strangers = (await SubmitAsync(strangerShop, "strangers")).GetProperty("id").GetString()!;
        await ApiAssert.Json(await shop.PostAsJsonAsync($"/v1/orders/{mineOrder}/delegate", new { connectionId = connection }), HttpStatusCode.OK);
        await ApiAssert.Json(await shop.PostAsJsonAsync($"/v1/orders/{theirs}/delegate", new { connectionId = competing }), HttpStatusCode.OK);
        await WaitForStatusAsync(tpl, strangers, "awaiting_shipment");
        using var scoped = app.WithKey((await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/api-keys", new { name = "wms", permissions = new[] { "*" }, connectionId = connection }), HttpStatusCode.Created)).GetProperty("key").GetString()!);
        _clock.Jump(Settle);

        async Task<string[]> Orders(HttpClient client, string query = "") => [.. (await ChangedAsync(client, since, query)).Items.Select(i => i.Id).Distinct().Order()];
        Assert.Equal(new[] { mineOrder, theirs }.Order(), await Orders(shop));
        Assert.Equal([mineOrder], await Orders(shop, $"&connectionId={connection}"));
        Assert.Equal([mineOrder], await Orders(scoped));
        Assert.Empty(await Orders(scoped, $"&connectionId={competing}"));
        Assert.Equal(new[] { mineOrder, strangers }.Order(), await Orders(tpl));
        Assert.Equal([mineOrder], await Orders(tpl, $"&connectionId={connection}"));
        Assert.Equal([theirs], await Orders(otherTpl));
        Assert.Equal([strangers], await Orders(strangerShop));

        // Events: the merchant's account heard about both connections; its scoped key only about its own.
        await Eventually.True(async () => (await EventsAsync(shop, since)).Any(e => OrderOf(e) == theirs), "the competing delegation's event to be recorded");
        await Eventually.True(async () => (await EventsAsync(scoped, since)).Any(e => OrderOf(e) == mineOrder), "the scoped connection's event to be recorded");
        _clock.Jump(Settle);
        var merchantEvents = await EventsAsync(shop, since);
        Assert.Contains(merchantEvents, e => ConnectionOf(e) == competing);
        Assert.DoesNotContain(merchantEvents, e => ConnectionOf(e) == strangerConnection);
        var scopedEvents = await EventsAsync(scoped, since);
        Assert.NotEmpty(scopedEvents);
        Assert.All(scopedEvents, e => Assert.Equal(connection, ConnectionOf(e)));
        Assert.DoesNotContain(await EventsAsync(otherTpl, since), e => OrderOf(e) == mineOrder || ConnectionOf(e) == connection);
        var strangerEvents = await EventsAsync(strangerShop, since);
        Assert.All(strangerEvents, e => Assert.Equal(strangerConnection, ConnectionOf(e)));
        Assert.Contains(strangerEvents, e => OrderOf(e) == strangers);
    }

    private static string? OrderOf(JsonElement e) =>
        e.GetProperty("type").GetString()!.StartsWith("order.", StringComparison.Ordinal) ? e.GetProperty("data").GetProperty("id").GetString() : null;

    private static string? ConnectionOf(JsonElement e) =>
        e.GetProperty("type").GetString()!.StartsWith("order.", StringComparison.Ordinal)
            ? e.GetProperty("data").GetProperty("connectionId").GetString()
            : e.GetProperty("data").GetProperty("id").GetString();

    [Fact]
    public async Task Events_catch_up_returns_the_events_a_down_receiver_was_sent_with_the_same_ids_and_bodies()
    {
        await using var receiver = await TestReceiver.StartAsync((_, c) => TestReceiver.Status(c, 503));
        using var app = App();
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var connection = await Connect.ActiveAsync(app, threePl, merchant);
        using var shop = app.WithKey(merchant.ApiKey);
        using var tpl = app.WithKey(threePl.ApiKey);
        await ApiAssert.Json(await tpl.PatchJson($"/v1/connections/{connection}/settings", new { webhookUrl = receiver.HookUrl }), HttpStatusCode.OK);
        var since = _clock.GetUtcNow();
        var orders = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var id = (await SubmitAsync(shop, $"down-{i}")).GetProperty("id").GetString()!;
            await WaitForStatusAsync(tpl, id, "awaiting_shipment");
            orders.Add(id);
        }
        await ApiAssert.Json(await tpl.PostAsync($"/v1/orders/{orders[0]}/start", null), HttpStatusCode.OK);
        await Eventually.True(() => Task.FromResult(receiver.Hooks.Select(h => h.Id).Distinct().Count() == 4), "the receiver to be sent four events");

        _clock.Jump(Settle);
        var feed = await EventsAsync(tpl, since, limit: 2);
        var orderEvents = feed.Where(e => OrderOf(e) is not null).ToList();
        var sent = receiver.Hooks.GroupBy(h => h.Id!).ToDictionary(g => g.Key, g => JsonNode.Parse(g.First().Body)!);
        Assert.Equal(sent.Keys.Order(), orderEvents.Select(e => e.GetProperty("id").GetString()!).Order());
        foreach (var e in orderEvents)
        {
            var webhook = sent[e.GetProperty("id").GetString()!];
            Assert.Equal(webhook["type"]!.GetValue<string>(), e.GetProperty("type").GetString());
            Assert.Equal(webhook["createdAt"]!.GetValue<DateTimeOffset>(), e.GetProperty("createdAt").GetDateTimeOffset());
            Assert.True(JsonNode.DeepEquals(webhook["data"], JsonNode.Parse(e.GetProperty("data").GetRawText())), $"data of {e.GetProperty("id")} differs");
        }
        // Ordered by when each event was recorded, which may trail its createdAt by the queue's latency.
        Assert.Equal(["order.created", "order.created", "order.created", "order.updated"], orderEvents.Select(e => e.GetProperty("type").GetString()).Order());
        Assert.Equal(new[] { orders[0], orders[0], orders[1], orders[2] }.Order(), orderEvents.Select(OrderOf).Order());
        Assert.Equal(feed.Select(e => e.GetProperty("id").GetString()).Distinct().Count(), feed.Count);

        // The merchant had no webhook at all, yet its account was told the same order events.
        var merchantFeed = await EventsAsync(shop, since);
        Assert.Superset(sent.Keys.ToHashSet(), merchantFeed.Select(e => e.GetProperty("id").GetString()!).ToHashSet());
        Assert.Empty(await EventsAsync(tpl, _clock.GetUtcNow().AddMinutes(1)));
    }

    [Fact]
    public async Task A_merchants_feed_merges_the_order_events_its_orders_commit_with_its_other_events_in_order_across_pages()
    {
        using var app = App();
        var since = _clock.GetUtcNow();
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var connection = await Connect.ActiveAsync(app, threePl, merchant);
        using var shop = app.WithKey(merchant.ApiKey);
        using var tpl = app.WithKey(threePl.ApiKey);
        var orders = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var id = (await SubmitAsync(shop, $"merged-{i}")).GetProperty("id").GetString()!;
            await WaitForStatusAsync(tpl, id, "awaiting_shipment");
            orders.Add(id);
        }
        await ApiAssert.Json(await tpl.PatchJson($"/v1/connections/{connection}/settings", new { internalCustomerId = "C-7" }), HttpStatusCode.OK);
        await ApiAssert.Json(await shop.PostAsync($"/v1/orders/{orders[1]}/cancel", null), HttpStatusCode.OK);
        _clock.Jump(Settle);
        var all = await Eventually.Get(async () => await EventsAsync(shop, since) is { } events
            && events.Count(e => e.GetProperty("type").GetString()!.StartsWith("order.", StringComparison.Ordinal)) >= 4
            && events.Any(e => e.GetProperty("type").GetString() == "connection.settings_updated") ? events : null, "the merchant's feed to show every event");

        var paged = await EventsAsync(shop, since, limit: 2);

        Assert.Equal(all.Select(e => e.GetProperty("id").GetString()), paged.Select(e => e.GetProperty("id").GetString()));
        Assert.Equal(paged.Count, paged.Select(e => e.GetProperty("id").GetString()).Distinct().Count());
        Assert.Contains(paged, e => e.GetProperty("type").GetString() == "connection.approved");
        Assert.Equal(orders.Order(), paged.Select(OrderOf).OfType<string>().Distinct().Order());
        Assert.True(paged.Count(e => OrderOf(e) == orders[1]) >= 2, "the cancelled order has its delegation's and its cancellation's events");
        // The order events are rows of the merchant's order partition, written by the orders' own commits; the events
        // table holds only the merchant's other events.
        var merchantId = AccountId.Parse(merchant.Id);
        var store = app.Services.GetRequiredService<OrderStore>();
        var shelf = Assert.IsType<FeedShelf>(store.For(merchantId, Domain.Accounts.AccountKind.Merchant));
        Assert.Null(store.For(AccountId.Parse(threePl.Id), Domain.Accounts.AccountKind.ThreePl));
        var orderRows = new List<string>();
        await foreach (var row in shelf.Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {shelf.Partition} and RowKey ge {"~e|"} and RowKey lt {"~e}"}")))
        {
            orderRows.Add(row.GetString("EventId")!);
        }
        Assert.Equal(paged.Where(e => OrderOf(e) is not null).Select(e => e.GetProperty("id").GetString()!).Order(), orderRows.Order());
        var feed = app.Services.GetRequiredService<EventFeed>();
        await foreach (var row in feed.Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {EventFeed.Partition(merchantId)} and RowKey ge {"t|"} and RowKey lt {"t}"}")))
        {
            Assert.DoesNotContain(row.GetString("EventId"), orderRows);
        }
    }

    [Theory]
    [InlineData("/v1/orders?updatedSince=yesterday", "updatedSince")]
    [InlineData("/v1/orders?updatedSince=2026-12-06T10:00:00", "updatedSince")]
    [InlineData("/v1/orders?updatedSince=2026-12-06T10:00:00+01:00", "updatedSince")]
    [InlineData("/v1/orders?updatedSince=2026-12-06", "updatedSince")]
    [InlineData("/v1/orders?updatedSince=2026-02-30T10:00:00Z", "updatedSince")]
    [InlineData("/v1/orders?updatedSince=2026-12-06T10:00:00Z&limit=0", "limit")]
    [InlineData("/v1/orders?updatedSince=2026-12-06T10:00:00Z&limit=201", "limit")]
    [InlineData("/v1/orders?updatedSince=2026-12-06T10:00:00Z&cursor=%25%25", "cursor")]
    [InlineData("/v1/events?since=1733480000", "since")]
    [InlineData("/v1/events?since=2026-12-06T10:00:00.123", "since")]
    [InlineData("/v1/events?since=2026-12-06T10:00:00Z&limit=0", "limit")]
    [InlineData("/v1/events?limit=500", "limit")]
    [InlineData("/v1/events?cursor=%00", "cursor")]
    public async Task A_bad_reconciliation_parameter_is_a_400_naming_it(string url, string field)
    {
        using var app = App();
        var merchant = await Seed.AccountAsync(app, "merchant");
        using var shop = app.WithKey(merchant.ApiKey);
        var problem = await ApiAssert.Problem(await shop.GetAsync(url), HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Any_offset_and_a_lowercase_z_name_the_same_instant()
    {
        using var app = App();
        var merchant = await Seed.AccountAsync(app, "merchant");
        var threePl = await Seed.AccountAsync(app, "threepl");
        await Connect.ActiveAsync(app, threePl, merchant);
        using var shop = app.WithKey(merchant.ApiKey);
        var id = (await SubmitAsync(shop, "tz")).GetProperty("id").GetString()!;
        await WaitForStatusAsync(shop, id, "awaiting_shipment");
        _clock.Jump(Settle);
        var before = _clock.GetUtcNow().AddMinutes(-1).ToOffset(TimeSpan.FromHours(5.5));
        var after = _clock.GetUtcNow().AddMinutes(1).ToOffset(TimeSpan.FromHours(-3));
        Assert.Contains(id, (await ChangedAsync(shop, before)).Items.Select(i => i.Id));
        Assert.Empty((await ChangedAsync(shop, after)).Items);
        Assert.Contains(id, (await ApiAssert.Json(await shop.GetAsync($"/v1/orders?updatedSince={before.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss}z"), HttpStatusCode.OK))
            .GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task A_change_row_stored_later_than_the_write_bound_moves_to_a_fresh_time_and_stays_the_only_one()
    {
        using var app = App();
        var store = app.Services.GetRequiredService<OrderStore>();
        var options = new ReconciliationOptions { SettleWindow = Settle };
        var partition = "m|test-" + Guid.NewGuid().ToString("N");
        const string orderId = "ord_aaaaaaaaaaaaaaaaaaaa";
        var updatedAt = new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
        TableEntity Projection(long version, DateTimeOffset at) => new(partition, orderId) { ["OrderId"] = orderId, ["Version"] = version, ["UpdatedAt"] = at };
        async Task<List<TableEntity>> ChangeRowsAsync()
        {
            var rows = new List<TableEntity>();
            await foreach (var row in store.Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {OrderChangeFeed.ChangePrefix}")))
            {
                rows.Add(row);
            }
            return rows;
        }

        // Each clock read is 2 s after the previous one, so every write overruns the 1 s bound: the row is keyed no
        // earlier than 0.5 s before the write (at +1.5 s), then moved three times (+6 s, +10 s, +14 s).
        await new OrderChangeFeed(store, new PartitionWriter(), options, new SteppingTime(updatedAt, TimeSpan.FromSeconds(2))).WriteAsync(Projection(1, updatedAt), null, CancellationToken.None);
        var moved = Assert.Single(await ChangeRowsAsync());
        Assert.Equal(TimeKeyedFeed.RowKey(OrderChangeFeed.ChangePrefix, updatedAt.AddSeconds(14), orderId), moved.RowKey);
        Assert.Equal(1, moved.GetInt64("Version"));
        var listRow = (await store.Table.GetEntityAsync<TableEntity>(partition, orderId)).Value;
        Assert.Equal(moved.RowKey, listRow.GetString("FeedKeys"));

        // A timely write keys the next version at its updatedAt and removes the previous change row in the same transaction.
        var next = updatedAt.AddMinutes(1);
        await new OrderChangeFeed(store, new PartitionWriter(), options, new SteppingTime(next, TimeSpan.FromMilliseconds(10))).WriteAsync(Projection(2, next), listRow, CancellationToken.None);
        var current = Assert.Single(await ChangeRowsAsync());
        Assert.Equal(TimeKeyedFeed.RowKey(OrderChangeFeed.ChangePrefix, next, orderId), current.RowKey);
        Assert.Equal(2, current.GetInt64("Version"));
    }
}
