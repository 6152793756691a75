using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using ThreePL.Functions.Tests.Infrastructure;
using ThreePL.Functions.Tests.Webhooks;
using Xunit.Abstractions;

namespace ThreePL.Functions.Tests.Reliability;

/// <summary>
/// The crash suite: the real app as a process, under a steady order load with shipments, killed with SIGKILL at
/// moments drawn from a seeded schedule and started again on the same storage each time. Afterwards, judged
/// only through the API, the webhook receivers and what storage holds: every accepted order routed exactly
/// once, every event delivered at least once with one stable <c>webhook-id</c>, every shipment billed exactly
/// once, both parties' lists agreeing with the orders, and no queued work, poisoned message or unrelayed outbox
/// row left behind.
/// <para>
/// <c>CRASH_KILLS</c> sets the number of kills (default <see cref="DefaultKills"/>, what CI runs: 1.6 minutes
/// measured on the shared 2-core machine, 5-7 at a load average of 25-30), <c>CRASH_SEED</c> replays a schedule:
/// the seed fixes when each kill comes and which orders are shipped (thread timing stays real). A failure names both.
/// </para>
/// </summary>
[Collection("azurite")]
public sealed class CrashSuiteTests(AzuriteFixture azurite, ITestOutputHelper output) : IDisposable
{
    public const int DefaultKills = 20;

    /// <summary>Orders the load submits at least, however early the kills end.</summary>
    private const int MinOrders = 60;

    /// <summary>Submitters, each pausing between orders: about 6 orders/s, so 20 kills stay at a few hundred orders.</summary>
    private const int Submitters = 3;

    private static readonly TimeSpan SubmitPause = TimeSpan.FromMilliseconds(500);

    private readonly string _workingDirectory = Directory.CreateTempSubdirectory("threepl-crash").FullName;

    public void Dispose() => Directory.Delete(_workingDirectory, recursive: true);

    [Fact]
    public async Task Kill_9_under_load_loses_nothing_duplicates_nothing_and_half_writes_nothing()
    {
        var kills = Setting("CRASH_KILLS") ?? DefaultKills;
        var seed = Setting("CRASH_SEED") ?? Random.Shared.Next();
        output.WriteLine($"crash suite: CRASH_SEED={seed} CRASH_KILLS={kills}");
        var prefix = TestApp.NewPrefix();
        try
        {
            await RunAsync(prefix, seed, kills);
        }
        catch (Exception ex)
        {
            throw new CrashSuiteFailure($"Replay with CRASH_SEED={seed} CRASH_KILLS={kills}. {ex.GetType().Name}: {ex.Message} Poison queues: {await PoisonedAsync(prefix)}.", ex);
        }
    }

    private static int? Setting(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    /// <summary>Whether the load ships order <paramref name="index"/>: about a third, fixed by the seed.</summary>
    private static bool Ships(int seed, int index) => new Random(unchecked(seed * 7919 + index)).Next(3) == 0;

    private async Task RunAsync(string prefix, int seed, int kills)
    {
        await using var threePlHooks = await TestReceiver.StartAsync();
        await using var merchantHooks = await TestReceiver.StartAsync();
        var port = AppProcess.FreePort();
        var settings = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["ThreePL:Storage:Prefix"] = prefix,
            [TestApp.HubNameSetting] = TestApp.HubName(prefix),
            ["ThreePL:AdminKey"] = TestApp.AdminKey,
            ["ThreePL:SigningKey"] = "crash-suite-signing-key-0123456789abcdef",
            ["ThreePL:AllowInsecureWebhooks"] = "true",
            ["ThreePL:Email:PickupDirectory"] = Path.Combine(_workingDirectory, "mail"),
            ["ThreePL:Outbox:SafetyNetDelay"] = "00:00:03",
            ["ThreePL:Webhooks:RetrySchedule"] = string.Join(',', Enumerable.Repeat("00:00:01", 10)),
            ["AzureFunctionsJobHost:extensions:queues:messageLease"] = "00:00:05",
            // Every kill raises the dequeue count of each message the dead process held, leased or merely received in
            // its batch, without any failure: the host counts dequeues, as the Functions host does. host.json's 5 is
            // about failing handlers; a crash loop of this density would poison messages that never failed.
            ["AzureFunctionsJobHost:extensions:queues:maxDequeueCount"] = (kills + 5).ToString(CultureInfo.InvariantCulture),
            ["AzureFunctionsJobHost:extensions:queues:visibilityTimeout"] = "00:00:00",
            ["AzureFunctionsJobHost:extensions:queues:maxPollingInterval"] = "00:00:00.200",
            ["AzureFunctionsJobHost:extensions:durableTask:storageProvider:maxQueuePollingInterval"] = "00:00:00.500",
        };
        var app = await AppProcess.StartAsync(settings, port, _workingDirectory);
        try
        {
            using var http = ApiContract.Client(app.BaseAddress, TimeSpan.FromSeconds(30));
            var world = await ConnectAsync(http, threePlHooks.HookUrl, merchantHooks.HookUrl);
            using var shop = Client(http, world.Merchant);
            using var tpl = Client(http, world.ThreePl);

            var schedule = new Random(seed);
            var killDelays = Enumerable.Range(0, kills).Select(_ => TimeSpan.FromMilliseconds(schedule.Next(300, 3000))).ToList();
            var accepted = new ConcurrentDictionary<int, string>();
            var toShip = Channel.CreateUnbounded<string>();
            var shipped = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
            var failedRequests = 0;
            var killsDone = false;
            var next = -1;
            var load = Task.WhenAll(Enumerable.Range(0, Submitters).Select(_ => Task.Run(async () =>
            {
                while (Interlocked.Increment(ref next) is var i && (i < MinOrders || !Volatile.Read(ref killsDone)))
                {
                    var id = await SubmitUntilAcceptedAsync(shop, $"crash-{i}", () => Interlocked.Increment(ref failedRequests));
                    accepted[i] = id;
                    if (Ships(seed, i))
                    {
                        toShip.Writer.TryWrite(id);
                    }
                    await Task.Delay(SubmitPause);
                }
            })));
            var shippers = Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
            {
                await foreach (var id in toShip.Reader.ReadAllAsync())
                {
                    await ShipUntilShippedAsync(tpl, id, () => Interlocked.Increment(ref failedRequests));
                    shipped[id] = true;
                }
            })));

            foreach (var delay in killDelays)
            {
                await Task.Delay(delay);
                app.Kill();
                app.Dispose();
                app = await AppProcess.StartAsync(settings, port, _workingDirectory);
            }
            Volatile.Write(ref killsDone, true);
            await load.WaitAsync(TimeSpan.FromMinutes(5));
            toShip.Writer.Complete();
            await shippers.WaitAsync(TimeSpan.FromMinutes(5));
            output.WriteLine($"orders={accepted.Count} shipped={shipped.Count} failed requests={failedRequests}");
            Assert.True(failedRequests > 0, "No request met a dead server: the kills did not happen under load.");
            Assert.Equal(accepted.Count, accepted.Values.Distinct().Count());
            Assert.NotEmpty(shipped);

            await AssertEverythingRoutedAndDeliveredAsync(shop, tpl, threePlHooks, merchantHooks, world, accepted.Values.ToHashSet(), shipped.Keys.ToHashSet());
            await AssertBilledOnceAsync(tpl, shipped.Keys.ToHashSet());
            await AssertNothingLeftBehindAsync(prefix);
        }
        finally
        {
            app.Dispose();
        }
    }

    private async Task AssertEverythingRoutedAndDeliveredAsync(
        HttpClient shop, HttpClient tpl, TestReceiver threePlHooks, TestReceiver merchantHooks, World world, HashSet<string> orders, HashSet<string> shipped)
    {
        var expected = orders.ToDictionary(id => id, id => shipped.Contains(id) ? "shipped" : "awaiting_shipment", StringComparer.Ordinal);
        var current = await Eventually.Get(async () =>
        {
            var seen = await ListAllAsync(tpl, "/v1/orders");
            return seen.Count == orders.Count && seen.All(o => expected.TryGetValue(o.Key, out var status) && o.Value.GetProperty("status").GetString() == status) ? seen : null;
        }, "every accepted order to be routed (and the shipped ones shipped) in the 3PL's list", TimeSpan.FromMinutes(3));

        // Routed exactly once: one order.created event per order (a second routing would publish a second event).
        var missing = new List<string>();
        try
        {
            await Eventually.True(() =>
            {
                missing = orders.Where(id => Events(threePlHooks, "order.created", id).Count == 0).Select(id => $"{id} order.created")
                    .Concat(shipped.Where(id => Events(threePlHooks, "order.shipped", id).Count == 0).Select(id => $"{id} order.shipped (3PL)"))
                    .Concat(shipped.Where(id => Events(merchantHooks, "order.shipped", id).Count == 0).Select(id => $"{id} order.shipped (merchant)"))
                    .ToList();
                return Task.FromResult(missing.Count == 0);
            }, "every event at every destination", TimeSpan.FromMinutes(3));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} Missing: {string.Join(", ", missing.Take(10))}.", ex);
        }
        foreach (var id in orders)
        {
            AssertOneStableEvent(Events(threePlHooks, "order.created", id), world.ConnectionSecret, id);
            if (shipped.Contains(id))
            {
                AssertOneStableEvent(Events(threePlHooks, "order.shipped", id), world.ConnectionSecret, id);
                AssertOneStableEvent(Events(merchantHooks, "order.shipped", id), world.EndpointSecret, id);
            }
            else
            {
                Assert.Empty(Events(threePlHooks, "order.shipped", id));
            }
        }

        // Both parties' lists agree with the order itself: no list row half-written or left at an old version.
        var merchantView = await ListAllAsync(shop, "/v1/orders");
        Assert.Equal(orders.Order(StringComparer.Ordinal), merchantView.Keys.Order(StringComparer.Ordinal));
        foreach (var id in orders)
        {
            var order = await ApiAssert.Json(await shop.GetAsync($"/v1/orders/{id}"), HttpStatusCode.OK);
            foreach (var listed in new[] { merchantView[id], current[id] })
            {
                Assert.Equal(order.GetProperty("status").GetString(), listed.GetProperty("status").GetString());
                Assert.Equal(order.GetProperty("version").GetInt64(), listed.GetProperty("version").GetInt64());
            }
        }

        // The delivery log says the same: every delivery succeeded, one per event and destination.
        var deliveries = await Eventually.Get(async () =>
        {
            var all = await DeliveriesAsync(tpl);
            return all.All(d => d.GetProperty("status").GetString() == "succeeded") ? all : null;
        }, "every delivery of the 3PL to have succeeded", TimeSpan.FromMinutes(3));
        Assert.Equal(orders.Count + shipped.Count, deliveries.Count(d => d.GetProperty("eventType").GetString() is "order.created" or "order.shipped"));
        Assert.Equal(deliveries.Count, deliveries.Select(d => d.GetProperty("eventId").GetString()).Distinct().Count());
    }

    private static async Task AssertBilledOnceAsync(HttpClient tpl, HashSet<string> shipped)
    {
        var now = DateTimeOffset.UtcNow;
        var months = new[] { now, now.AddDays(-1) }.Select(d => d.ToString("yyyy-MM", CultureInfo.InvariantCulture)).Distinct();
        var lines = new List<string>();
        foreach (var month in months)
        {
            var usage = await ApiAssert.Json(await tpl.GetAsync($"/v1/billing/usage?month={month}"), HttpStatusCode.OK);
            lines.AddRange(usage.GetProperty("connections").EnumerateArray()
                .SelectMany(c => c.GetProperty("lines").EnumerateArray()).Select(l => l.GetProperty("orderId").GetString()!));
        }
        Assert.Equal(shipped.Order(StringComparer.Ordinal), lines.Order(StringComparer.Ordinal));
    }

    /// <summary>No queued or poisoned message, no unrelayed outbox row: every crash was healed, none merely outlived.</summary>
    private async Task AssertNothingLeftBehindAsync(string prefix)
    {
        await AppIdle.WaitAsync(azurite, prefix, TimeSpan.FromMinutes(2));
        await foreach (var queue in azurite.Queues.GetQueuesAsync(prefix: prefix))
        {
            var count = (await azurite.Queues.GetQueueClient(queue.Name).GetPropertiesAsync()).Value.ApproximateMessagesCount;
            Assert.True(count == 0, $"{queue.Name} holds {count} messages.");
        }
    }

    private async Task<string> PoisonedAsync(string prefix)
    {
        var found = new List<string>();
        await foreach (var queue in azurite.Queues.GetQueuesAsync(prefix: prefix))
        {
            if (queue.Name.EndsWith("-poison", StringComparison.Ordinal)
                && (await azurite.Queues.GetQueueClient(queue.Name).GetPropertiesAsync()).Value.ApproximateMessagesCount is > 0 and var count)
            {
                found.Add($"{queue.Name}: {count}");
            }
        }
        return found.Count == 0 ? "empty" : string.Join(", ", found);
    }

    private static void AssertOneStableEvent(List<ReceivedWebhook> copies, string secret, string orderId)
    {
        var ids = copies.Select(h => h.Id).Distinct().ToList();
        Assert.True(ids.Count == 1, $"Order {orderId}: {ids.Count} different webhook-ids for one event type: {string.Join(", ", ids)}");
        Assert.All(copies, h =>
        {
            Assert.Equal(h.Id, JsonDocument.Parse(h.Body).RootElement.GetProperty("id").GetString());
            Assert.True(StandardWebhooksVerifier.Verify(secret, h.Id!, h.Timestamp!, h.Body, h.Signature!, DateTimeOffset.UtcNow));
        });
    }

    private static List<ReceivedWebhook> Events(TestReceiver receiver, string type, string orderId) =>
        receiver.Hooks.Where(h => h.Body.Contains($"\"type\":\"{type}\"", StringComparison.Ordinal) && h.Body.Contains($"\"id\":\"{orderId}\"", StringComparison.Ordinal)).ToList();

    /// <summary>What a careful client does when the server dies mid-request (or is overloaded): send the same order again.</summary>
    private static async Task<string> SubmitUntilAcceptedAsync(HttpClient shop, string externalId, Action failed)
    {
        var body = new
        {
            externalId,
            lines = new[] { new { sku = "SKU-1", quantity = 1 } },
            shipTo = new { name = "Ada", line1 = "Main St 1", city = "Berlin", postalCode = "10115", countryCode = "DE" },
        };
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var response = await shop.PostAsJsonAsync("/v1/orders", body);
                if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
                {
                    return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
                }
                Assert.True((int)response.StatusCode >= 500, $"{externalId}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                failed();
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && attempt < 300)
            {
                failed();
            }
            await Task.Delay(200);
        }
    }

    /// <summary>
    /// The 3PL ships once the order has reached it, through crashes: a lost answer is followed by a look at the
    /// order, and a 409 for an order that is already shipped means the earlier try went through.
    /// </summary>
    private static async Task ShipUntilShippedAsync(HttpClient tpl, string id, Action failed)
    {
        for (var attempt = 0; attempt < 1500; attempt++)
        {
            try
            {
                using var read = await tpl.GetAsync($"/v1/orders/{id}");
                var status = read.StatusCode == HttpStatusCode.OK
                    ? JsonDocument.Parse(await read.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString()
                    : null;
                if (status == "shipped")
                {
                    return;
                }
                if (status == "awaiting_shipment")
                {
                    using var ship = await tpl.PostAsJsonAsync($"/v1/orders/{id}/ship", new { carrier = "DHL", service = "Paket", trackingNumber = "TRK-" + id });
                    if (ship.StatusCode == HttpStatusCode.OK)
                    {
                        return;
                    }
                    Assert.True((int)ship.StatusCode is >= 500 or 409, $"ship {id}: {(int)ship.StatusCode} {await ship.Content.ReadAsStringAsync()}");
                }
                else if (read.StatusCode != HttpStatusCode.OK && read.StatusCode != HttpStatusCode.NotFound)
                {
                    // 404: not routed to this 3PL yet (whether it ever is, the final checks decide).
                    Assert.True((int)read.StatusCode >= 500, $"get {id}: {(int)read.StatusCode}");
                    failed();
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                failed();
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"Order {id} was never shipped.");
    }

    private sealed record World(SeededAccount ThreePl, SeededAccount Merchant, string ConnectionSecret, string EndpointSecret);

    /// <summary>A connection whose 3PL takes order webhooks at its URL, and a merchant endpoint for shipments: two destinations per shipment.</summary>
    private static async Task<World> ConnectAsync(HttpClient http, string threePlHookUrl, string merchantHookUrl)
    {
        var threePl = await CreateAccountAsync(http, "threepl");
        var merchant = await CreateAccountAsync(http, "merchant");
        using var tpl = Client(http, threePl);
        using var shop = Client(http, merchant);
        var invited = await ApiAssert.Json(await tpl.PostAsJsonAsync("/v1/connections", new { accountId = merchant.Id }), HttpStatusCode.Created);
        var id = invited.GetProperty("id").GetString()!;
        await ApiAssert.Json(await shop.PostAsJsonAsync($"/v1/connections/{id}/approve", new { confirm = true }), HttpStatusCode.OK);
        var settings = await ApiAssert.Json(await tpl.PatchAsync($"/v1/connections/{id}/settings", JsonContent.Create(new { webhookUrl = threePlHookUrl })), HttpStatusCode.OK);
        var endpoint = await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/webhook-endpoints", new { url = merchantHookUrl, eventTypes = new[] { "order.shipped" } }), HttpStatusCode.Created);
        return new World(threePl, merchant, settings.GetProperty("webhookSecret").GetString()!, endpoint.GetProperty("secret").GetString()!);
    }

    private static async Task<SeededAccount> CreateAccountAsync(HttpClient http, string kind)
    {
        var email = $"{Guid.NewGuid():N}@example.com";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/admin/accounts") { Content = JsonContent.Create(new { kind, name = kind, email }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestApp.AdminKey);
        var json = await ApiAssert.Json(await http.SendAsync(request), HttpStatusCode.Created);
        return new SeededAccount(json.GetProperty("id").GetString()!, kind, email, json.GetProperty("apiKey").GetString()!);
    }

    private static HttpClient Client(HttpClient http, SeededAccount account)
    {
        var client = ApiContract.Client(http.BaseAddress!, TimeSpan.FromSeconds(30));
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", account.ApiKey);
        return client;
    }

    /// <summary>Every item of a paged list, by id; a duplicate id fails.</summary>
    private static async Task<Dictionary<string, JsonElement>> ListAllAsync(HttpClient client, string path)
    {
        var items = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        string? cursor = null;
        do
        {
            var page = await ApiAssert.Json(await client.GetAsync($"{path}?limit=100" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}")), HttpStatusCode.OK);
            foreach (var item in page.GetProperty("items").EnumerateArray())
            {
                Assert.True(items.TryAdd(item.GetProperty("id").GetString()!, item.Clone()), $"{path} lists {item.GetProperty("id").GetString()} twice.");
            }
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);
        return items;
    }

    private static async Task<List<JsonElement>> DeliveriesAsync(HttpClient client) =>
        (await ListAllAsync(client, "/v1/webhook-deliveries")).Values.ToList();
}

public sealed class CrashSuiteFailure(string message, Exception inner) : Exception(message, inner);
