using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Azure.Core;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Tests.Infrastructure;
using Xunit.Abstractions;
using static ThreePL.Functions.Tests.Orders.OrderTestKit;

namespace ThreePL.Functions.Tests.Orders;

/// <summary>
/// Many orders submitted at once across 20 connections: every one routed exactly once, none duplicated, and
/// the storage operations per routed order as docs/orders-storage.md states. <c>ORDERS_SCALE_N</c> sets the
/// count (default 1 000 so the suite stays quick; the 10 000 run is documented with its figures).
/// </summary>
[Collection("azurite")]
public sealed class OrderScaleTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    /// <summary>
    /// The documented per-order bounds (docs/orders-storage.md), with a little room for rare retries: 4.6 table
    /// operations measured once the order lived in its merchant's partition (from 5–6 before).
    /// </summary>
    private const double MinTableOperationsPerOrder = 3;
    private const double MaxTableOperationsPerOrder = 7;
    private const double QueueSendsPerOrder = 1;

    [Fact]
    public async Task Orders_submitted_concurrently_across_20_connections_are_each_routed_exactly_once()
    {
        var n = int.TryParse(Environment.GetEnvironmentVariable("ORDERS_SCALE_N"), out var configured) ? configured : 1000;
        var counter = new StorageOperationCounter(azurite.QueuePort);
        var wave = int.TryParse(Environment.GetEnvironmentVariable("ORDERS_SCALE_WAVE"), out var waveSize) ? waveSize : 1000;
        // The waves bound the routing backlog themselves; intake backpressure must not refuse part of one.
        using var app = new TestApp(azurite, new Dictionary<string, string?>
        {
            ["ThreePL:Outbox:SafetyNetDelay"] = "00:00:02",
            ["ThreePL:Orders:MaxBacklog"] = Math.Max(wave, 1000).ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, s => s.AddSingleton(new StoragePolicy(counter)));

        var merchants = new List<SeededAccount>();
        for (var t = 0; t < 5; t++)
        {
            var threePl = await Seed.AccountAsync(app, "threepl");
            for (var m = 0; m < 4; m++)
            {
                var merchant = await Seed.AccountAsync(app, "merchant");
                await Connect.ActiveAsync(app, threePl, merchant);
                merchants.Add(merchant);
            }
        }
        var clients = merchants.Select(m => app.WithKey(m.ApiKey)).ToList();
        foreach (var client in clients)
        {
            // Warm each key's lastUsedAt so authentication is one read per request during the measurement.
            await client.GetAsync("/v1/account");
        }
        // The connections' own aftermath (events, workflow steps, safety nets) is not part of the measurement.
        await AppIdle.WaitAsync(azurite, app.Prefix);
        counter.Reset();

        // Azurite's queue costs grow with queue depth and its queue garbage collection stalls everything once
        // thousands of messages wait (docs/orders-storage.md), so large runs go in waves of ORDERS_SCALE_WAVE
        // concurrent submissions (default 1 000), each routed before the next starts.
        var table = azurite.Tables.GetTableClient(new StorageNames(app.Prefix).Table("orders"));
        var clock = Stopwatch.StartNew();
        var intakeTime = TimeSpan.Zero;
        using var gate = new SemaphoreSlim(32);
        var submitted = new List<string>();
        for (var start = 0; start < n; start += wave)
        {
            var waveStarted = clock.Elapsed;
            submitted.AddRange(await Task.WhenAll(Enumerable.Range(start, Math.Min(wave, n - start)).Select(async i =>
            {
                await gate.WaitAsync();
                try
                {
                    var response = await clients[i % clients.Count].PostAsJsonAsync("/v1/orders", Body($"scale-{i}", $"SKU-{i % 7}"));
                    return (await ApiAssert.Json(response, HttpStatusCode.Created)).GetProperty("id").GetString()!;
                }
                finally
                {
                    gate.Release();
                }
            })));
            intakeTime += clock.Elapsed - waveStarted;
            var expected = submitted.Count;
            await Eventually.True(async () => await CountAsync(table, TableClient.CreateQueryFilter($"PartitionKey ge {"m|"} and PartitionKey lt {"m}"} and RowKey lt {"~"} and Status eq {"awaiting_shipment"}")) == expected,
                $"all {expected} orders to be routed", TimeSpan.FromMinutes(20));
        }
        Assert.Equal(n, submitted.Distinct().Count());
        var routedTime = clock.Elapsed;

        // Let the last relays, index writes and event fan-outs finish: each is a queued message until its work is done.
        await AppIdle.WaitAsync(azurite, app.Prefix, TimeSpan.FromMinutes(10));

        var counts = counter.Snapshot();
        output.WriteLine($"orders={n} wave={wave} intake={intakeTime.TotalSeconds:F1}s routed={routedTime.TotalSeconds:F1}s ({n / routedTime.TotalSeconds:F0} orders/s)");
        foreach (var (kind, count) in counts.OrderBy(c => c.Key))
        {
            output.WriteLine($"{kind}: {count} ({(double)count / n:F2} per order)");
        }
        var tablePerOrder = (double)counter.TableOperations / n;
        output.WriteLine($"table operations per order: {tablePerOrder:F2}");

        Assert.Equal(n, await CountAsync(table, TableClient.CreateQueryFilter($"PartitionKey ge {"m|"} and PartitionKey lt {"m}"} and RowKey lt {"~"} and Version eq {2L}")));
        Assert.Equal(2 * n, await CountAsync(table, TableClient.CreateQueryFilter($"RowKey ge {"~h|"} and RowKey lt {"~h}"}")));
        Assert.Equal(0, await CountAsync(table, TableClient.CreateQueryFilter($"RowKey ge {"outbox|"} and RowKey lt {"outbox}"}")));
        Assert.Equal(n, await CountAsync(table, TableClient.CreateQueryFilter($"PartitionKey ge {"t|"} and PartitionKey lt {"t}"} and Status eq {"awaiting_shipment"}")));
        Assert.InRange(tablePerOrder, MinTableOperationsPerOrder, MaxTableOperationsPerOrder);
        Assert.InRange((double)counter.Get("queue-send") / n, QueueSendsPerOrder, QueueSendsPerOrder + 0.05);

        // The same orders again, twice at once: every answer is 200 with the existing order, nothing new.
        var again = await Task.WhenAll(Enumerable.Range(0, Math.Min(n, 200)).SelectMany(i => new[] { i, i }).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var response = await clients[i % clients.Count].PostAsJsonAsync("/v1/orders", Body($"scale-{i}"));
                return (await ApiAssert.Json(response, HttpStatusCode.OK)).GetProperty("id").GetString()!;
            }
            finally
            {
                gate.Release();
            }
        }));
        Assert.All(again, id => Assert.Contains(id, submitted));
        Assert.Equal(n, await CountAsync(table, TableClient.CreateQueryFilter($"PartitionKey ge {"m|"} and PartitionKey lt {"m}"} and RowKey lt {"~"}")));
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }

    private static async Task<int> CountAsync(TableClient table, string filter)
    {
        var count = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>(filter, select: ["PartitionKey"]))
        {
            count++;
        }
        return count;
    }
}
