using System.Diagnostics;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Bench.EndToEnd;

/// <summary>
/// Storage operations of one command over a set of routed orders: <see cref="OperationCount.Orders"/> is how many
/// of them answered 200 and had the command's webhook verified.
/// </summary>
public sealed record CommandCount(IReadOnlyList<StorageOperation> Operations, int Sent, int Delivered, double Seconds, IReadOnlyList<string> Failures, int UnparsedConnections)
    : OperationCount(Operations, Delivered)
{
    /// <summary>Usage lines inserted into the billing table, per order (orders stored apart, events committed before lines rode).</summary>
    public double UsageLinesPerOrder => Operations.Count(o => o.Stage == "billing" && o.Service == StorageService.Table && o.Kind == StorageKinds.Insert && o.Status is >= 200 and < 300) / (double)Orders;

    /// <summary>
    /// Successful transactions of table <c>orders</c> that carried usage lines (<c>~b|</c> rows, riding in the ship's
    /// commit or the 3PL's list-row write), per order. A shared transaction (group commit) carries several orders' lines,
    /// so this is at most one per order, not a count of lines.
    /// </summary>
    public double UsageLineBatchesPerOrder => Operations.Count(o => o.Kind == StorageKinds.Batch && o.Resource.StartsWith("orders:", StringComparison.Ordinal) && o.Resource.Contains("~b|", StringComparison.Ordinal) && o.Status is >= 200 and < 300) / (double)Orders;
}

/// <summary>One fulfilment counting run: every order of it accepted by its 3PL, then every one shipped whole.</summary>
public sealed record FulfilmentRun(CommandCount Accept, CommandCount Ship)
{
    public double PerOrder => Accept.PerOrder + Ship.PerOrder;
}

/// <summary>
/// The common fulfilment path counted on the wire, on the counting stage after its order runs: orders that were
/// routed and whose <c>order.created</c> was verified are accepted by their connection's 3PL at 20 HTTP
/// connections, and once every <c>order.accepted</c> is verified and the app is idle (as <see cref="Counting"/>
/// decides it) the accepts are counted; then the same for shipping them whole (<c>order.shipped</c>, and the usage
/// line, which rides in a transaction of table <c>orders</c> for an order in its merchant's partition). Each run takes orders no earlier run touched.
/// </summary>
public static class Fulfilment
{
    private const int Connections = 20;

    public static async Task<IReadOnlyList<FulfilmentRun>> RunAsync(Stage stage, Receiver receiver, int runs, int orders)
    {
        var proxy = stage.Proxy ?? throw new InvalidOperationException("The counting stage needs the proxy.");
        var routed = receiver.Created.Values.Where(o => stage.Tenancy.ThreePlKeys.ContainsKey(o.ConnectionId)).OrderBy(o => o.OrderId, StringComparer.Ordinal).ToList();
        if (routed.Count < runs * orders)
        {
            // Small counting runs (options given with --quick) leave fewer orders: smaller runs, said so, rather than none.
            Console.WriteLine($"  only {routed.Count} routed orders for {runs} runs of {orders}: {routed.Count / runs} per run");
            orders = routed.Count / runs;
        }
        if (orders == 0)
        {
            return [];
        }
        var done = new List<FulfilmentRun>();
        for (var i = 0; i < runs; i++)
        {
            var batch = routed.Skip(i * orders).Take(orders).ToList();
            var accept = await CountAsync(stage, proxy, receiver, batch, "order.accepted",
                o => new Command(stage.Tenancy.ThreePlKeys[o.ConnectionId], $"/v1/orders/{o.OrderId}/accept", null));
            var shippable = batch.Where(o => receiver.OrderEvents.ContainsKey(Receiver.OrderEventKey("order.accepted", o.OrderId))).ToList();
            var ship = await CountAsync(stage, proxy, receiver, shippable, "order.shipped",
                o => new Command(stage.Tenancy.ThreePlKeys[o.ConnectionId], $"/v1/orders/{o.OrderId}/ship", new { carrier = "DHL", service = "Paket", trackingNumber = "T-" + o.OrderId }));
            Console.WriteLine($"  fulfilment run {i + 1}: accept {accept.PerOrder:F2} ({accept.Delivered}/{accept.Sent} in {accept.Seconds:F1} s), ship {ship.PerOrder:F2} ({ship.Delivered}/{ship.Sent} in {ship.Seconds:F1} s) operations per order");
            foreach (var failure in accept.Failures.Concat(ship.Failures).Take(5))
            {
                Console.WriteLine($"    {failure}");
            }
            done.Add(new FulfilmentRun(accept, ship));
        }
        return done;
    }

    private static async Task<CommandCount> CountAsync(Stage stage, CountingStorageProxy proxy, Receiver receiver, IReadOnlyList<CreatedOrder> batch, string eventType, Func<CreatedOrder, Command> command)
    {
        await stage.Monitor.QuiesceAsync(TimeSpan.FromSeconds(60));
        await Counting.SettleAsync(proxy);
        proxy.Reset();
        var unparsedBefore = proxy.UnparsedConnections;
        var watch = Stopwatch.StartNew();
        var (succeeded, failures) = await stage.Load.SendAllAsync(batch.Select(command).ToList(), Connections);
        var delivered = await WaitForEventsAsync(stage, receiver, eventType, succeeded.Select(i => batch[i].OrderId).ToList());
        var seconds = watch.Elapsed.TotalSeconds;
        // The webhook can arrive before the work its command queued is done (the usage line, the safety net).
        await stage.Monitor.QuiesceAsync(TimeSpan.FromSeconds(60));
        await Counting.SettleAsync(proxy);
        return new CommandCount(proxy.Snapshot(), batch.Count, delivered, seconds, failures, proxy.UnparsedConnections - unparsedBefore);
    }

    /// <summary>Waits until every order's <paramref name="eventType"/> is verified; gives up after 180 s without progress (reported, never padded).</summary>
    private static async Task<int> WaitForEventsAsync(Stage stage, Receiver receiver, string eventType, IReadOnlyList<string> orderIds)
    {
        var keys = orderIds.Select(id => Receiver.OrderEventKey(eventType, id)).ToList();
        var last = -1;
        var lastProgress = Stopwatch.GetTimestamp();
        while (true)
        {
            var delivered = keys.Count(receiver.OrderEvents.ContainsKey);
            if (delivered == keys.Count || !stage.Monitor.Alive())
            {
                return delivered;
            }
            if (delivered != last)
            {
                last = delivered;
                lastProgress = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(lastProgress) > TimeSpan.FromSeconds(180))
            {
                Console.WriteLine($"  {eventType}: gave up waiting, {delivered}/{keys.Count} verified");
                return delivered;
            }
            await Task.Delay(100);
        }
    }
}
