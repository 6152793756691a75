using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using ThreePL.Functions.ApiKeys;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Tests.Infrastructure;
using ThreePL.Functions.Tests.Webhooks;
using Xunit.Abstractions;
using static ThreePL.Functions.Tests.Orders.OrderTestKit;

namespace ThreePL.Functions.Tests.Orders;

/// <summary>
/// The storage operations of the common fulfilment path after routing, per order, counted like
/// <see cref="OrderScaleTests"/>: an explicit accept then a whole shipment, and a whole shipment alone (which
/// accepts implicitly), each with its usage line and events, published by each command's one follow-up message.
/// docs/orders-storage.md has the figures.
/// </summary>
[Collection("azurite")]
public sealed class FulfilmentCostTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    /// <summary>
    /// The documented bounds per order, with room for what a loaded machine adds: cache misses of the 5 s caches and
    /// list rows that must be read after all (measured 9.6 and 16.4 on an idle machine, 10.6 and 18.3 under the suite;
    /// 7.6 and 13.1 on a busy machine once commands decided on their access check's read and the first webhook attempt
    /// was sent before its delivery was stored; 6.6 and 11.1 once each command published through its one follow-up
    /// message instead of outbox rows, a safety net and the <c>events</c> queue; 5.2 and 8.2 once the order lived in its
    /// merchant's partition as its own list row, with the merchant's catch-up rows in its commit; 4.2–4.3 and 7.4–7.5 on a
    /// busy machine once billing recorded the line from what the <c>order.shipped</c> event carries instead of reading
    /// the order; 3.1–3.2 and 6.4 once the line rode in the 3PL's list-row transaction instead of an insert of its own).
    /// </summary>
    private const double MaxTableOperationsShipOnly = 5;
    private const double MaxTableOperationsAcceptAndShip = 9;

    /// <summary>
    /// Follow-up messages updated per command: 1 while every follow-up was released to its queue function; now only a
    /// command whose follow-up had used a third of its delay before a finisher took it (a loaded machine) releases it.
    /// </summary>
    private const double MaxFollowUpUpdates = 0.2;

    [Fact]
    public async Task Accept_and_ship_whole_stay_within_their_storage_budget()
    {
        const int n = 30;
        var counter = new StorageOperationCounter(azurite.QueuePort);
        // Each command is finished in its process while two thirds of its follow-up's delay are left; 10 s leaves a
        // loaded machine room for the commit before that.
        using var app = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:Outbox:SafetyNetDelay"] = "00:00:10" }, s => s.AddSingleton(new StoragePolicy(counter)));
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        await Connect.ActiveAsync(app, threePl, merchant);
        using var shop = app.WithKey(merchant.ApiKey);
        using var tpl = app.WithKey(threePl.ApiKey);
        var ids = new List<string>();
        for (var i = 0; i < 2 * n; i++)
        {
            ids.Add((await SubmitAsync(shop, $"cost-{i}")).GetProperty("id").GetString()!);
        }
        foreach (var id in ids)
        {
            await WaitForStatusAsync(tpl, id, "awaiting_shipment");
        }

        var acceptAndShip = await MeasureAsync(counter, app.Prefix, async () =>
        {
            foreach (var id in ids.Take(n))
            {
                await ApiAssert.Json(await tpl.PostAsync($"/v1/orders/{id}/accept", null), HttpStatusCode.OK);
                await ApiAssert.Json(await tpl.PostAsJsonAsync($"/v1/orders/{id}/ship", new { carrier = "DHL", service = "Paket", trackingNumber = "T-" + id }), HttpStatusCode.OK);
            }
        });
        var shipOnly = await MeasureAsync(counter, app.Prefix, async () =>
        {
            foreach (var id in ids.Skip(n))
            {
                await ApiAssert.Json(await tpl.PostAsJsonAsync($"/v1/orders/{id}/ship", new { carrier = "DHL", service = "Paket", trackingNumber = "T-" + id }), HttpStatusCode.OK);
            }
        });

        Report("accept + ship whole", acceptAndShip, n);
        Report("ship whole (implicit accept)", shipOnly, n);
        Assert.InRange(Table(acceptAndShip) / n, 1, MaxTableOperationsAcceptAndShip);
        Assert.InRange(Table(shipOnly) / n, 1, MaxTableOperationsShipOnly);
        // Each command's follow-up is sent and deleted; it is updated (released to its queue function, or hidden again)
        // only when its process cannot finish the command itself in time, which sequential commands never need.
        Assert.Equal(3 * n, acceptAndShip.GetValueOrDefault("queue-send") + shipOnly.GetValueOrDefault("queue-send"));
        Assert.InRange(acceptAndShip.GetValueOrDefault("queue-update") + shipOnly.GetValueOrDefault("queue-update"), 0, MaxFollowUpUpdates * 3 * n);
    }

    /// <summary>
    /// A cold burst (every cache entry lapsed, then concurrent commands of one 3PL): each cached entry — the 3PL's API
    /// key, the connection's webhook target, the endpoints of both accounts, the destination's health — is read once,
    /// however many commands and follow-ups miss it at once; what is left is each command's read of its order.
    /// </summary>
    [Fact]
    public async Task A_cold_burst_of_commands_reads_each_cached_entry_once()
    {
        const int n = 20;
        var counter = new StorageOperationCounter(azurite.QueuePort);
        var clock = new JumpingClock();
        await using var receiver = await TestReceiver.StartAsync();
        using var app = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:Outbox:SafetyNetDelay"] = "00:00:02" },
            s => s.AddSingleton(new StoragePolicy(counter)).AddSingleton<TimeProvider>(clock));
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var connection = await Connect.ActiveAsync(app, threePl, merchant);
        using var shop = app.WithKey(merchant.ApiKey);
        using var tpl = app.WithKey(threePl.ApiKey);
        await ApiAssert.Json(await tpl.PatchJson($"/v1/connections/{connection}/settings", new { webhookUrl = receiver.HookUrl }), HttpStatusCode.OK);
        var ids = new List<string>();
        for (var i = 0; i < n; i++)
        {
            ids.Add((await SubmitAsync(shop, $"burst-{i}")).GetProperty("id").GetString()!);
        }
        foreach (var id in ids)
        {
            await WaitForStatusAsync(tpl, id, "awaiting_shipment");
        }

        var burst = await MeasureAsync(counter, app.Prefix, async () =>
        {
            clock.Jump(ApiKeyCache.MaxLifetime + TimeSpan.FromSeconds(1));
            var accepted = await Task.WhenAll(ids.Select(id => tpl.PostAsync($"/v1/orders/{id}/accept", null)));
            await Task.WhenAll(accepted.Select(r => ApiAssert.Json(r, HttpStatusCode.OK)));
        });

        Report("cold burst of accepts", burst, n);
        var reads = burst.GetValueOrDefault("table-read") + burst.GetValueOrDefault("table-query");
        // n order reads; 5 cached entries, read once each (at most twice if a read outlasted the clock's jump).
        Assert.InRange(reads, n, n + 10);
    }

    private static double Table(IReadOnlyDictionary<string, long> counts) => counts.Where(c => c.Key.StartsWith("table", StringComparison.Ordinal)).Sum(c => c.Value);

    private void Report(string what, IReadOnlyDictionary<string, long> counts, int n)
    {
        output.WriteLine($"{what}: {Table(counts) / n:F2} table operations per order");
        foreach (var (kind, count) in counts.OrderBy(c => c.Key))
        {
            output.WriteLine($"  {kind}: {(double)count / n:F2} per order");
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> and counts until the follow-ups, billing and events are done: each is a queued
    /// message (or an outbox row) until its work is.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, long>> MeasureAsync(StorageOperationCounter counter, string prefix, Func<Task> work)
    {
        await AppIdle.WaitAsync(azurite, prefix, TimeSpan.FromMinutes(5));
        counter.Reset();
        await work();
        await AppIdle.WaitAsync(azurite, prefix, TimeSpan.FromMinutes(5));
        return counter.Snapshot();
    }
}
