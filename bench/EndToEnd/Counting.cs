using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Bench.EndToEnd;

/// <summary>Storage operations the proxy saw while some work was done for <paramref name="Orders"/> orders, per order.</summary>
public record OperationCount(IReadOnlyList<StorageOperation> Operations, int Orders)
{
    private IEnumerable<StorageOperation> Counted => Operations.Where(o => !o.IsIdlePoll);

    /// <summary>Every request except idle polls (receives that returned nothing), per order: the headline figure.</summary>
    public double PerOrder => Counted.Count() / (double)Orders;

    public double IdlePollsPerOrder => Operations.Count(o => o.IsIdlePoll) / (double)Orders;

    public double EntitiesPerBatch => Operations.Where(o => o.Kind == StorageKinds.Batch).Select(o => (double)o.Entities).DefaultIfEmpty(0).Average();

    public int FailedRequests => Operations.Count(o => o.Status is 0 or >= 500);

    public IReadOnlyDictionary<string, double> ByKind() => Per(o => o.Kind);

    public IReadOnlyDictionary<string, double> ByStage() => Per(o => o.Stage);

    public IReadOnlyDictionary<(string Resource, string Kind), double> ByResource() => Per(o => (o.Resource, o.Kind));

    private Dictionary<TKey, double> Per<TKey>(Func<StorageOperation, TKey> key)
        where TKey : notnull =>
        Counted.GroupBy(key).ToDictionary(g => g.Key, g => g.Count() / (double)Orders);
}

/// <summary>Storage operations of one counting run, per routed order with one delivered webhook.</summary>
public sealed record CountRun(RunResult Run, IReadOnlyList<StorageOperation> Operations, int UnparsedConnections)
    : OperationCount(Operations, Run.Delivered);

/// <summary>
/// Counts storage operations from outside the app: the development host runs as its own process with
/// <c>AzureWebJobsStorage</c> pointing at a <see cref="CountingStorageProxy"/> in front of its Azurite, so every request
/// of the process is counted on the wire, whichever client sent it. Several runs on one app, each after the
/// previous one has settled.
/// </summary>
public static class Counting
{
    public static async Task<IReadOnlyList<CountRun>> RunAsync(Stage stage, int runs, int orders, int maxBacklog)
    {
        var proxy = stage.Proxy ?? throw new InvalidOperationException("The counting stage needs the proxy.");
        var counted = new List<CountRun>();
        for (var i = 0; i < runs; i++)
        {
            await stage.Monitor.QuiesceAsync(TimeSpan.FromSeconds(60));
            await SettleAsync(proxy);
            proxy.Reset();
            var unparsedBefore = proxy.UnparsedConnections;
            var run = await stage.Load.ClosedLoopAsync($"count{i + 1}", stage.Tenancy, orders, 20, maxBacklog, stage.Monitor);
            await SettleAsync(proxy);
            var count = new CountRun(run, proxy.Snapshot(), proxy.UnparsedConnections - unparsedBefore);
            Console.WriteLine($"  counting run {i + 1}: {count.PerOrder:F2} operations per order ({run.Delivered} orders delivered), idle polls {count.IdlePollsPerOrder:F2} per order");
            counted.Add(count);
        }
        return counted;
    }

    /// <summary>
    /// Waits until no request other than idle polls and the Durable task hub's upkeep (lease renewals, which never
    /// stop) has reached storage for 4 s: the safety nets (2 s after each command) and what they cause have finished.
    /// </summary>
    public static async Task SettleAsync(CountingStorageProxy proxy)
    {
        int Busy() => proxy.Snapshot().Count(o => !o.IsIdlePoll && o.Stage != StorageOperationClassifier.DurableStage);
        var last = Busy();
        while (true)
        {
            await Task.Delay(4000);
            var now = Busy();
            if (now == last)
            {
                return;
            }
            last = now;
        }
    }
}
