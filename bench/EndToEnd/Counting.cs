using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Tests.Orders;
using ThreePL.LocalHost;

namespace ThreePL.Bench.EndToEnd;

/// <summary>
/// Storage operations per routed order: the development host runs in this process (as the tests' TestApp runs it,
/// but on Kestrel) with the tests' <see cref="StorageOperationCounter"/> in every storage client of the app
/// (<see cref="StoragePolicy"/> through DI). The queue trigger's own client (receive, delete, update) belongs to
/// the host, as it does under the Functions host, and does not get the app's policies: <see cref="TriggerQueueCounter"/>
/// counts those requests at the HTTP level.
/// </summary>
public static class Counting
{
    public static async Task<(Dictionary<string, double> PerOrder, RunResult Run)> RunAsync(Azurite azurite, Receiver receiver, int n, int maxBacklog)
    {
        var counter = new StorageOperationCounter(azurite.QueuePort);
        using var trigger = new TriggerQueueCounter(azurite.QueuePort);
        var port = Child.FreePort();
        var prefix = "cnt" + RandomNumberGenerator.GetHexString(8, lowercase: true);
        var settings = Program.AppEnvironment(azurite, port, prefix).ToDictionary(p => p.Key.Replace("__", ":", StringComparison.Ordinal), p => p.Value);
        await using var app = new InProcessApp(settings, new StoragePolicy(counter));
        app.UseKestrel(o => o.Listen(IPAddress.Loopback, port));
        app.StartServer();

        var load = new Load(new Uri($"http://127.0.0.1:{port}"), Program.AdminKey, receiver);
        var tenancy = await load.SeedAsync(5, 4);
        var monitor = new Monitor(Environment.ProcessId, azurite, prefix);
        await Task.Delay(3000);
        await monitor.QuiesceAsync(TimeSpan.FromSeconds(30));
        counter.Reset();
        trigger.Reset();
        var run = await load.ClosedLoopAsync("count", tenancy, n, 20, maxBacklog, monitor);
        // Let the safety nets (2 s after each command) and their index re-syncs finish: stable counts for 4 s.
        long last = -1;
        while (true)
        {
            await Task.Delay(4000);
            var now = counter.Snapshot().Sum(c => c.Value) + trigger.Snapshot().Where(c => c.Key != "queue-receive").Sum(c => c.Value);
            if (now == last)
            {
                break;
            }
            last = now;
        }
        var perOrder = counter.Snapshot().Concat(trigger.Snapshot())
            .Where(c => c.Key is not ("table-other" or "queue-other"))
            .GroupBy(c => c.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (double)g.Sum(c => c.Value) / run.Delivered, StringComparer.Ordinal);
        return (perOrder, run);
    }

    /// <summary>The development host with the bench's settings and one extra storage policy, on Kestrel.</summary>
    private sealed class InProcessApp(IReadOnlyDictionary<string, string> settings, StoragePolicy policy) : WebApplicationFactory<DevelopmentHost>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Production");
            // The bench's output folder (host.json and functions.metadata are there), not a source folder.
            builder.UseContentRoot(AppContext.BaseDirectory);
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }
            builder.ConfigureServices(services => services.AddSingleton(policy));
        }
    }
}

/// <summary>
/// Counts the queue trigger's requests (GET, DELETE and PUT on <c>/messages</c> of the Azurite queue port) from
/// HttpClient's own activities. The app itself only sends (POST), which <see cref="StorageOperationCounter"/>
/// counts, so nothing is counted twice. Per HTTP request: a retried call counts once per try.
/// </summary>
public sealed class TriggerQueueCounter : IDisposable
{
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);
    private readonly ActivityListener _listener;

    public TriggerQueueCounter(int queuePort)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "System.Net.Http",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem("server.port") is int port && port == queuePort
                    && activity.GetTagItem("url.full") is string url && url.Contains("/messages", StringComparison.Ordinal)
                    && activity.GetTagItem("http.request.method") is string method
                    && method switch { "GET" => "queue-receive", "DELETE" => "queue-delete", "PUT" => "queue-update", _ => null } is { } kind)
                {
                    _counts.AddOrUpdate(kind, 1, (_, count) => count + 1);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public IReadOnlyDictionary<string, long> Snapshot() => new Dictionary<string, long>(_counts);

    public void Reset() => _counts.Clear();

    public void Dispose() => _listener.Dispose();
}
