using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Bench.EndToEnd;

/// <summary>
/// End-to-end benchmark of issue 14: POST /v1/orders → routed → order.created webhook verified at a local receiver,
/// the app run by the development host (src/LocalHost) as its own process on an Azurite of its own. Measures, in one
/// run: storage operations per order counted on the wire by a proxy in front of Azurite (several counting runs, then
/// the fulfilment path on those orders: the 3PL accepts, then ships whole, each command counted on its own), the
/// ceiling ratio from alternating end-to-end and Azurite-replay windows, p99 latency at a fixed rate of half the
/// measured ceiling, optionally a large closed-loop run, peak memory and cold start; prints the targets with
/// MET/MISSED. Usage: bench/run.sh [options], see docs/performance.md.
/// </summary>
public static class Program
{
    public const string AdminKey = "bench-admin-key";
    private const string SigningKey = "bench-signing-key-0123456789abcdef0123456789";

    // Issue 14's targets.
    private const double OperationsTarget = 8;
    private const double RatioTarget = 0.70;
    private const double P99TargetMs = 250;
    private const double RssTargetMb = 200;
    private const double CpuTargetMs = 2;

    public static async Task<int> Main(string[] args)
    {
        // --quick: smaller counting runs and windows, c=20 only, no large run, default cold start only; options
        // given with it still win.
        var quick = args.Contains("--quick");
        var connections = ArgList(args, "--connections", quick ? [20] : [20, 200]);
        var countRuns = Arg(args, "--count-runs", 3);
        var countOrders = Arg(args, "--count-orders", quick ? 100 : 500);
        var fulfilmentRuns = Arg(args, "--fulfilment-runs", 3);
        var fulfilmentOrders = Arg(args, "--fulfilment-orders", quick ? 50 : 200);
        var rounds = Arg(args, "--rounds", 3);
        var windowSeconds = Arg(args, "--window-seconds", quick ? 15 : 40);
        var replaySeconds = Arg(args, "--replay-seconds", quick ? 6 : 15);
        var rateSeconds = Arg(args, "--rate-seconds", quick ? 15 : 60);
        var large = Arg(args, "--large", quick ? 0 : 10000);
        var largeConnections = Arg(args, "--large-connections", 20);
        var largeLimit = Arg(args, "--large-time-limit", 900);
        var maxBacklog = Arg(args, "--max-backlog", quick ? 50 : 100);
        var warmUp = Arg(args, "--warm-up", quick ? 30 : 100);
        var coldStarts = Arg(args, "--cold-starts", quick ? 1 : 5);
        Azurite.QueueGcSeconds = Arg(args, "--queue-gc-seconds", 5);
        var repo = Path.GetFullPath(ArgString(args, "--repo", FindRepoRoot()));
        var appDll = Path.GetFullPath(ArgString(args, "--app-dll", Path.Combine(repo, "src/LocalHost/bin/Release/net10.0/ThreePL.LocalHost.dll")));
        var r2rDll = ArgString(args, "--r2r-dll", "");
        r2rDll = r2rDll.Length > 0 ? Path.GetFullPath(r2rDll) : r2rDll;
        var outFile = ArgString(args, "--out", "");
        outFile = outFile.Length > 0 ? Path.GetFullPath(outFile) : outFile;
        Directory.SetCurrentDirectory(Directory.CreateTempSubdirectory("bench-cwd-").FullName);

        var report = new StringBuilder();
        void Emit(string line = "")
        {
            Console.WriteLine(line);
            report.AppendLine(line);
        }

        var started = Stopwatch.StartNew();
        await using var receiver = await Receiver.StartAsync();
        Emit($"# End-to-end benchmark, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Emit();
        Emit(Azurite.QueueGcSeconds > 0
            ? $"Azurite's queue services collect their garbage every {Azurite.QueueGcSeconds} s (`--queue-gc-seconds`; Azurite's own interval is 60 s, docs/performance.md)."
            : "Azurite's queue services collect their garbage every 60 s (their own interval; `--queue-gc-seconds` changes it).");
        Emit("");
        Emit($"machine: {Environment.ProcessorCount} cores, {Shell("free -m | awk '/Mem:/{print $2\" MB\"}'")} RAM, {Shell(". /etc/os-release; echo $PRETTY_NAME")}, .NET {Environment.Version}; at start: `{Shell("uptime")}`");
        Emit();
        var notes = new List<string>();
        long peakRssKb = 0;
        var endToEnd = new List<RunResult>();

        // 1. Cold start, before anything else loads the machine.
        var cold = new List<(string Label, double Median, List<double> All)>();
        if (coldStarts > 0)
        {
            Console.WriteLine("cold start ...");
            using var coldAzurite = await Azurite.StartAsync(repo);
            cold.Add(await ColdStartAsync("default (JIT, TieredPGO off as the app configures it)", appDll, coldAzurite, coldStarts, []));
            if (!quick)
            {
                cold.Add(await ColdStartAsync("DOTNET_TieredPGO=1", appDll, coldAzurite, coldStarts, new() { ["DOTNET_TieredPGO"] = "1" }));
                cold.Add(await ColdStartAsync("DOTNET_TieredCompilation=0", appDll, coldAzurite, coldStarts, new() { ["DOTNET_TieredCompilation"] = "0" }));
            }
            if (r2rDll.Length > 0 && File.Exists(r2rDll))
            {
                cold.Add(await ColdStartAsync("ReadyToRun publish of the development host", r2rDll, coldAzurite, coldStarts, []));
            }
        }

        // 2. Storage operations per order, counted on the wire.
        Console.WriteLine($"counting storage operations: {countRuns} runs of {countOrders} orders ...");
        IReadOnlyList<CountRun> counts;
        IReadOnlyList<FulfilmentRun> fulfilment = [];
        var fulfilmentTook = TimeSpan.Zero;
        await using (var counting = await Stage.StartAsync(repo, appDll, receiver, maxBacklog, warmUp, counted: true))
        {
            counts = await Counting.RunAsync(counting, countRuns, countOrders, maxBacklog);
            // 2b. The common fulfilment path (accept, ship whole) on the orders just routed, same app and proxy.
            if (fulfilmentRuns > 0)
            {
                Console.WriteLine($"counting the fulfilment path: {fulfilmentRuns} runs of {fulfilmentOrders} orders accepted, then shipped ...");
                var clock = Stopwatch.StartNew();
                fulfilment = await Fulfilment.RunAsync(counting, receiver, fulfilmentRuns, fulfilmentOrders);
                fulfilmentTook = clock.Elapsed;
            }
            peakRssKb = Math.Max(peakRssKb, counting.PeakRssKb);
            AddIfExited(notes, counting);
        }
        endToEnd.AddRange(counts.Select(c => c.Run));
        var opsPerOrder = Median(counts.Select(c => c.PerOrder));
        var kinds = counts.SelectMany(c => c.ByKind().Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var mix = kinds.ToDictionary(k => k, k => Median(counts.Select(c => c.ByKind().GetValueOrDefault(k))), StringComparer.Ordinal);

        // 3. The ceiling ratio per connection count (alternating windows), then the fixed rate at half the ceiling.
        using var replayAzurite = await Azurite.StartAsync(repo);
        var medianRun = counts.OrderBy(c => c.PerOrder).ElementAt(counts.Count / 2);
        var replay = await Replay.CreateAsync(replayAzurite, mix, medianRun.ByResource(), Median(counts.Select(c => c.EntitiesPerBatch)));
        var ratios = new List<(int Connections, IReadOnlyList<RatioRound> Rounds)>();
        var rate = double.NaN;
        foreach (var c in connections)
        {
            Console.WriteLine($"ceiling ratio at c={c}: {rounds} rounds of {windowSeconds} s end to end and {replaySeconds} s replay ...");
            await using var stage = await Stage.StartAsync(repo, appDll, receiver, maxBacklog, warmUp, counted: false);
            var result = await CeilingRatio.RunAsync(stage, replayAzurite, replay, c, rounds, TimeSpan.FromSeconds(windowSeconds), TimeSpan.FromSeconds(replaySeconds), opsPerOrder, maxBacklog);
            ratios.Add((c, result));
            endToEnd.AddRange(result.Select(r => r.EndToEnd));
            if (double.IsNaN(rate))
            {
                rate = ArgDouble(args, "--rate", 0.5 * Median(result.Select(r => r.CeilingOrdersPerSecond)));
            }
            peakRssKb = Math.Max(peakRssKb, stage.PeakRssKb);
            AddIfExited(notes, stage);
        }
        // On a fresh app and Azurite: after the rounds' thousands of queue messages, Azurite's queue garbage
        // collection stalls it for tens of seconds (PLATFORM-NOTES), which would be measured as the app's latency.
        RunResult? fixedRate = null;
        if (rateSeconds > 0 && double.IsFinite(rate))
        {
            Console.WriteLine($"fixed rate {rate:F1}/s for {rateSeconds} s ...");
            await using var stage = await Stage.StartAsync(repo, appDll, receiver, maxBacklog, warmUp, counted: false);
            fixedRate = await stage.Load.FixedRateAsync($"rate{rate:F1}", stage.Tenancy, rate, rateSeconds, stage.Monitor);
            endToEnd.Add(fixedRate);
            peakRssKb = Math.Max(peakRssKb, stage.PeakRssKb);
            AddIfExited(notes, stage);
        }

        // 4. The large run.
        RunResult? largeRun = null;
        long largePeakKb = 0;
        if (large > 0)
        {
            Console.WriteLine($"{large} orders at c={largeConnections}, submission stopped after {largeLimit} s ...");
            await using var stage = await Stage.StartAsync(repo, appDll, receiver, maxBacklog, warmUp, counted: false);
            largeRun = await stage.Load.ClosedLoopAsync($"n{large}c{largeConnections}", stage.Tenancy, large, largeConnections, maxBacklog, stage.Monitor, TimeSpan.FromSeconds(largeLimit));
            largePeakKb = stage.PeakRssKb;
            peakRssKb = Math.Max(peakRssKb, largePeakKb);
            endToEnd.Add(largeRun);
            AddIfExited(notes, stage);
        }

        Console.WriteLine("receiver ceiling ...");
        var receiverCeiling = await ReceiverCeilingAsync(receiver, quick ? 1 : 3);

        foreach (var note in notes)
        {
            Emit(note);
        }
        var firstRatio = ratios.Count > 0 ? Median(ratios[0].Rounds.Select(r => r.Ratio)) : double.NaN;
        var p99 = fixedRate?.P99 ?? double.NaN;
        var peakMb = peakRssKb / 1024.0;

        Emit("## Targets (issue 14)");
        Emit();
        Emit("| figure | target | measured | |");
        Emit("|---|---|---|---|");
        Emit($"| storage operations per routed order with one delivered webhook (median of {counts.Count} counting runs of {countOrders} orders; idle polls aside) | ≤ {OperationsTarget:F0} | **{opsPerOrder:F1}** ({Spread(counts.Select(c => c.PerOrder), "F1")}) | {Met(opsPerOrder <= OperationsTarget)} |");
        foreach (var (c, result) in ratios)
        {
            var median = Median(result.Select(r => r.Ratio));
            Emit($"| end-to-end orders/s ÷ (Azurite ceiling ops/s ÷ ops per order) at c={c} (median of {result.Count} alternating rounds) | ≥ {RatioTarget:P0} | **{median:P0}** ({Spread(result.Select(r => r.Ratio), "P0")}) | {Met(median >= RatioTarget)} |");
        }
        if (fulfilment.Count == 0)
        {
            Emit($"| storage operations per order for accept + ship whole, each with its delivered webhooks | ≤ {OperationsTarget:F0} per command (issue 14's budget) | not run | — |");
        }
        else
        {
            var accept = Median(fulfilment.Select(f => f.Accept.PerOrder));
            var ship = Median(fulfilment.Select(f => f.Ship.PerOrder));
            Emit($"| storage operations per order for accept + ship whole, each with its delivered webhooks (medians of {fulfilment.Count} runs of {fulfilment[0].Accept.Sent} orders; idle polls aside) | ≤ {OperationsTarget:F0} per command (issue 14's budget) | **accept {accept:F1}, ship {ship:F1}** ({Spread(fulfilment.Select(f => f.Accept.PerOrder), "F1")}; {Spread(fulfilment.Select(f => f.Ship.PerOrder), "F1")}), together {Median(fulfilment.Select(f => f.PerOrder)):F1} | {Met(accept <= OperationsTarget && ship <= OperationsTarget)} |");
        }
        Emit(fixedRate is null
            ? $"| p99 intake → verified webhook at half the measured ceiling | < {P99TargetMs:F0} ms | not run | — |"
            : $"| p99 intake → verified webhook at a fixed rate of half the measured ceiling ({rate:F1} orders/s for {rateSeconds} s) | < {P99TargetMs:F0} ms | **{p99:F0} ms** | {Met(p99 < P99TargetMs)} |");
        if (largeRun is null)
        {
            Emit($"| 10 000 orders at c={largeConnections}: all accepted, each delivered once per endpoint, inside the time limit | all | not run (`--large 10000` runs it) | — |");
            Emit($"| app peak RSS (no large run: highest of this invocation's app processes) | < {RssTargetMb:F0} MB | **{peakMb:F0} MB** | {Met(peakMb < RssTargetMb)} |");
        }
        else
        {
            var allDone = largeRun.Submitted == large && largeRun.Failed == 0 && largeRun.Delivered == large && receiver.Duplicates == 0;
            Emit($"| {large} orders at c={largeConnections}: all accepted, each delivered once per endpoint, submission inside {largeLimit} s | all | **{largeRun.Submitted - largeRun.Failed} accepted, {largeRun.Delivered} delivered, {receiver.Duplicates} duplicates, {largeRun.IntakeSeconds:F0} s submitting, {largeRun.Seconds:F0} s to the last webhook** | {Met(allDone)} |");
            Emit($"| app peak RSS over the large run | < {RssTargetMb:F0} MB | **{largePeakKb / 1024.0:F0} MB** | {Met(largePeakKb / 1024.0 < RssTargetMb)} |");
        }
        var closedLoop = endToEnd.Where(r => r.Name.StartsWith('c') && !r.Name.StartsWith("count", StringComparison.Ordinal) && r.Delivered > 0).ToList();
        if (closedLoop.Count > 0)
        {
            var cpu = Median(closedLoop.Select(CpuMsPerOrder));
            Emit($"| app CPU per delivered order in the closed-loop runs (median of {closedLoop.Count}; app CPU seconds ÷ orders delivered) | ≈ {CpuTargetMs:F0} ms (issue 14's note, not a figure of the `bench:` line) | **{cpu:F2} ms** ({Spread(closedLoop.Select(CpuMsPerOrder), "F2")}) | {Met(cpu <= CpuTargetMs)} |");
        }
        Emit();

        EmitCounts(Emit, counts);
        if (fulfilment.Count > 0)
        {
            EmitFulfilment(Emit, fulfilment, fulfilmentTook);
        }
        EmitRatios(Emit, ratios, replay, opsPerOrder);

        Emit("## Every measured end-to-end run");
        Emit();
        Emit("Counting runs go through the proxy; the others talk to Azurite directly. Each group (counting, each connection count, the fixed rate, the large run) has an app process and an Azurite of its own, seeded with 20 merchant–3PL connections (5 3PLs × 4 merchants, each connection with its own webhook URL) and warmed up first. Closed loop: at most " +
             $"{maxBacklog} accepted-but-undelivered orders in flight. orders/s: first POST → last webhook; steady: webhooks verified between the first webhook and the end of submission ÷ that time (the whole run's rate if the first webhook came after half the submission time). Latency: POST (its scheduled time at a fixed rate) → verified webhook.");
        Emit();
        Emit("| run | HTTP connections | orders (accepted / failed) | delivered + verified | intake s | end-to-end s | orders/s | steady orders/s | p50 ms | p95 ms | p99 ms | max ms | peak app RSS MB | app CPU s | app CPU ms per order | Azurite CPU s | max queue depth |");
        Emit("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in endToEnd)
        {
            Emit(Row(r));
        }
        Emit();
        Emit($"Webhooks: {receiver.Requests} requests, {receiver.Rejected} failed verification, {receiver.Duplicates} duplicates (same webhook-id at the same endpoint), {receiver.OtherEvents} other event types. Receiver ceiling (bare HttpClient, 32 concurrent, verified): {receiverCeiling:F0} requests/s.");
        Emit();
        if (cold.Count > 0)
        {
            Emit($"## Cold start: process start → first 200 on /healthz ({coldStarts} starts each, median)");
            Emit();
            Emit("| variant | median ms | all ms |");
            Emit("|---|---|---|");
            foreach (var (label, median, all) in cold)
            {
                Emit($"| {label} | {median:F0} | {string.Join(", ", all.Select(a => a.ToString("F0", CultureInfo.InvariantCulture)))} |");
            }
            Emit();
        }
        Emit($"took {started.Elapsed.TotalMinutes:F1} min; at end: `{Shell("uptime")}`");
        // The one machine-readable line (docs/performance.md defines each term); nothing is printed after it.
        string F(double value, string format) => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "nan";
        Emit();
        Emit($"bench: ops_per_order={F(opsPerOrder, "F1")} ceiling_ratio={F(firstRatio, "F2")} p99_ms={F(p99, "F0")} " +
             $"delivered={endToEnd.Sum(r => r.Delivered)}/{endToEnd.Sum(r => r.Submitted)} duplicates={receiver.Duplicates} peak_rss_mb={F(peakMb, "F0")}");
        if (outFile.Length > 0)
        {
            await File.WriteAllTextAsync(outFile, report.ToString());
        }
        return 0;
    }

    private static void EmitCounts(Action<string> emit, IReadOnlyList<CountRun> counts)
    {
        var columns = string.Join(" | ", counts.Select((_, i) => $"run {i + 1}"));
        var rule = string.Concat(counts.Select(_ => "---|"));
        emit("## Storage operations per routed order (counted on the wire)");
        emit("");
        emit("The app as its own process, its storage connection pointing at the counting proxy; each run submits its orders at 20 HTTP connections and ends when every webhook is verified and nothing but idle polls and the task hub's lease upkeep has reached storage for 4 s. One operation = one HTTP request (a batch is one).");
        emit("");
        emit($"| | {columns} | median |");
        emit($"|---|{rule}---|");
        emit($"| orders delivered | {string.Join(" | ", counts.Select(c => c.Run.Delivered))} | |");
        emit($"| **operations per order (idle polls aside)** | {string.Join(" | ", counts.Select(c => c.PerOrder.ToString("F2", CultureInfo.InvariantCulture)))} | **{Median(counts.Select(c => c.PerOrder)):F2}** |");
        emit($"| idle polls per order (receives that returned nothing) | {string.Join(" | ", counts.Select(c => c.IdlePollsPerOrder.ToString("F2", CultureInfo.InvariantCulture)))} | {Median(counts.Select(c => c.IdlePollsPerOrder)):F2} |");
        emit($"| entities per batch | {string.Join(" | ", counts.Select(c => c.EntitiesPerBatch.ToString("F2", CultureInfo.InvariantCulture)))} | {Median(counts.Select(c => c.EntitiesPerBatch)):F2} |");
        emit($"| requests failed (5xx or no answer) | {string.Join(" | ", counts.Select(c => c.FailedRequests))} | |");
        emit($"| connections the proxy could not parse | {string.Join(" | ", counts.Select(c => c.UnparsedConnections))} | |");
        emit("");
        Breakdown(emit, "kind (per order)", counts, c => c.ByKind());
        Breakdown(emit, "pipeline stage (per order)", counts, c => c.ByStage());
        PerResource(emit, counts);
    }

    private static void Breakdown(Action<string> emit, string title, IReadOnlyList<OperationCount> counts, Func<OperationCount, IReadOnlyDictionary<string, double>> by)
    {
        emit($"| {title} | {string.Join(" | ", counts.Select((_, i) => $"run {i + 1}"))} | median |");
        emit($"|---|{string.Concat(counts.Select(_ => "---|"))}---|");
        foreach (var key in counts.SelectMany(c => by(c).Keys).Distinct().Order(StringComparer.Ordinal))
        {
            emit($"| {Cell(key)} | {string.Join(" | ", counts.Select(c => by(c).GetValueOrDefault(key).ToString("F2", CultureInfo.InvariantCulture)))} | {Median(counts.Select(c => by(c).GetValueOrDefault(key))):F2} |");
        }
        emit("");
    }

    private static void PerResource(Action<string> emit, IReadOnlyList<OperationCount> counts)
    {
        var middle = counts.OrderBy(c => c.PerOrder).ElementAt(counts.Count / 2);
        emit($"Per resource (table: PartitionKey/RowKey pattern, or queue, or container) and kind, in the median run ({middle.PerOrder:F2}):");
        emit("");
        emit("| resource | kind | per order |");
        emit("|---|---|---|");
        foreach (var ((resource, kind), value) in middle.ByResource().OrderByDescending(r => r.Value).ThenBy(r => r.Key.Resource, StringComparer.Ordinal))
        {
            emit($"| `{Cell(resource)}` | {kind} | {value:F2} |");
        }
        emit("");
    }

    private static void EmitFulfilment(Action<string> emit, IReadOnlyList<FulfilmentRun> runs, TimeSpan took)
    {
        string Cells(Func<FulfilmentRun, double> value, string format = "F2") =>
            $"{string.Join(" | ", runs.Select(r => value(r).ToString(format, CultureInfo.InvariantCulture)))} | {Median(runs.Select(value)).ToString(format, CultureInfo.InvariantCulture)}";
        string Counts(Func<FulfilmentRun, int> value) => $"{string.Join(" | ", runs.Select(r => value(r)))} |";
        emit("## Storage operations per order of the fulfilment path (accept, ship whole; counted on the wire)");
        emit("");
        emit($"On the counting app and proxy, after its counting runs ({took.TotalSeconds:F0} s of this invocation): each run takes orders routed there whose `order.created` was verified and no earlier run touched; their 3PLs `POST /v1/orders/{{id}}/accept` at 20 HTTP connections; once every `order.accepted` is verified, the app's queues (billing's included) are empty and nothing but idle polls and the task hub's lease upkeep has reached storage for 4 s, the accepts are counted; then the same for `POST /v1/orders/{{id}}/ship` `{{carrier, service, trackingNumber}}` (whole order), its `order.shipped` and the usage line (riding in the ship's commit or the 3PL's list-row write, `~b|` rows; inserted into `billing` only for orders stored apart). Per order = operations ÷ orders whose command answered 200 and whose webhook was verified.");
        emit("");
        emit($"| | {string.Join(" | ", runs.Select((_, i) => $"run {i + 1}"))} | median |");
        emit($"|---|{string.Concat(runs.Select(_ => "---|"))}---|");
        emit($"| orders accepted (200) and `order.accepted` verified / sent | {string.Join(" | ", runs.Select(r => $"{r.Accept.Delivered}/{r.Accept.Sent}"))} | |");
        emit($"| orders shipped (200) and `order.shipped` verified / sent | {string.Join(" | ", runs.Select(r => $"{r.Ship.Delivered}/{r.Ship.Sent}"))} | |");
        emit($"| **accept: operations per order (idle polls aside)** | {Cells(r => r.Accept.PerOrder)} |");
        emit($"| **ship whole: operations per order (idle polls aside)** | {Cells(r => r.Ship.PerOrder)} |");
        emit($"| accept + ship whole | {Cells(r => r.PerOrder)} |");
        emit($"| usage lines inserted into `billing` per shipped order | {Cells(r => r.Ship.UsageLinesPerOrder)} |");
        emit($"| transactions carrying usage lines (`~b\\|`) per shipped order | {Cells(r => r.Ship.UsageLineBatchesPerOrder)} |");
        emit($"| idle polls per order (accept; ship) | {string.Join(" | ", runs.Select(r => $"{r.Accept.IdlePollsPerOrder:F2}; {r.Ship.IdlePollsPerOrder:F2}"))} | |");
        emit($"| commands → last webhook, s (accept; ship) | {string.Join(" | ", runs.Select(r => $"{r.Accept.Seconds:F1}; {r.Ship.Seconds:F1}"))} | |");
        emit($"| commands not answered 200 | {Counts(r => r.Accept.Failures.Count + r.Ship.Failures.Count)}");
        emit($"| requests failed (5xx or no answer) | {Counts(r => r.Accept.FailedRequests + r.Ship.FailedRequests)}");
        emit($"| connections the proxy could not parse | {Counts(r => r.Accept.UnparsedConnections + r.Ship.UnparsedConnections)}");
        emit("");
        var failures = runs.SelectMany(r => r.Accept.Failures.Concat(r.Ship.Failures)).Take(5).ToList();
        foreach (var failure in failures)
        {
            emit($"- failed: `{failure}`");
        }
        if (failures.Count > 0)
        {
            emit("");
        }
        foreach (var (command, counts) in new[] { ("accept", runs.Select(r => (OperationCount)r.Accept).ToList()), ("ship whole", runs.Select(r => (OperationCount)r.Ship).ToList()) })
        {
            emit($"### {command}");
            emit("");
            Breakdown(emit, $"kind (per order, {command})", counts, c => c.ByKind());
            Breakdown(emit, $"pipeline stage (per order, {command})", counts, c => c.ByStage());
            PerResource(emit, counts);
        }
    }

    private static void EmitRatios(Action<string> emit, List<(int Connections, IReadOnlyList<RatioRound> Rounds)> ratios, Replay replay, double opsPerOrder)
    {
        emit("## Ceiling ratio (alternating windows)");
        emit("");
        emit($"Each round: a closed-loop end-to-end window (its steady orders/s) and a window of the counted mix replayed against an Azurite of its own (32 workers, operations completed per second); end to end first in odd rounds, replay first in even ones. Ceiling orders/s = replay ops/s ÷ {opsPerOrder:F2} ops per order; ratio = end-to-end orders/s ÷ ceiling orders/s. Azurite cores = CPU seconds of its three processes ÷ the window.");
        emit("");
        emit("| c | round | end-to-end steady orders/s | its Azurite cores | app cores | replay ops/s | ceiling orders/s | replay's Azurite cores | replay client cores | ratio | per Azurite CPU |");
        emit("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var (c, rounds) in ratios)
        {
            foreach (var r in rounds)
            {
                emit($"| {c} | {r.Number} | {r.EndToEnd.SteadyOrdersPerSecond:F1} | {r.EndToEndAzuriteCores:F2} | {r.EndToEnd.AppCpu / r.EndToEnd.Seconds:F2} | {r.Replay.OperationsPerSecond:F0} | {r.CeilingOrdersPerSecond:F1} | {r.Replay.AzuriteCores:F2} | {r.Replay.ClientCores:F2} | {r.Ratio:F2} | {r.CpuNormalisedRatio:F2} |");
            }
            emit($"| {c} | **median** | {Median(rounds.Select(r => r.EndToEnd.SteadyOrdersPerSecond)):F1} | | | {Median(rounds.Select(r => r.Replay.OperationsPerSecond)):F0} | {Median(rounds.Select(r => r.CeilingOrdersPerSecond)):F1} | | | **{Median(rounds.Select(r => r.Ratio)):F2}** | {Median(rounds.Select(r => r.CpuNormalisedRatio)):F2} |");
        }
        emit("");
        if (ratios.Count > 0 && ratios[0].Rounds.Count > 0)
        {
            var window = ratios[0].Rounds[^1].Replay;
            var total = window.Issued.Values.Sum();
            emit($"What the replay issued (last window, share of its operations): {string.Join(", ", window.Issued.OrderBy(i => i.Key, StringComparer.Ordinal).Select(i => $"{i.Key} {i.Value / total:P1}"))}; not replayed: {string.Join(", ", Replay.NotReplayed)}.");
            emit("");
        }
    }

    private static void AddIfExited(List<string> notes, Stage stage)
    {
        if (stage.ExitNote is { } note)
        {
            notes.Add(note);
        }
    }

    private static string Met(bool met) => met ? "MET" : "MISSED";

    /// <summary>Key patterns contain '|', which would split a Markdown table cell.</summary>
    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string Spread(IEnumerable<double> values, string format)
    {
        var list = values.ToList();
        return list.Count == 0 ? "" : $"{list.Min().ToString(format, CultureInfo.InvariantCulture)}–{list.Max().ToString(format, CultureInfo.InvariantCulture)}";
    }

    private static double CpuMsPerOrder(RunResult r) => r.AppCpu * 1000 / r.Delivered;

    private static string Row(RunResult r) =>
        $"| {r.Name} | {r.Connections} | {r.Submitted - r.Failed} / {r.Failed} | {r.Delivered} | {r.IntakeSeconds:F1} | {r.Seconds:F1} | {r.OrdersPerSecond:F1} | {r.SteadyOrdersPerSecond:F1} | {r.P50:F0} | {r.P95:F0} | {r.P99:F0} | {r.Max:F0} | {r.PeakRssKb / 1024.0:F0} | {r.AppCpu:F1} | {(r.Delivered > 0 ? CpuMsPerOrder(r) : double.NaN):F2} | {r.AzuriteCpu:F1} | {r.MaxQueueDepth} |";

    public static Child StartApp(string dll, string connectionString, int port, string prefix, string hub, IDictionary<string, string>? extra = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = connectionString,
            ["ThreePL__Urls"] = $"http://127.0.0.1:{port}",
            ["ThreePL__PublicBaseUrl"] = $"http://127.0.0.1:{port}",
            ["ThreePL__AdminKey"] = AdminKey,
            ["ThreePL__SigningKey"] = SigningKey,
            ["ThreePL__AllowInsecureWebhooks"] = "true",
            ["ThreePL__Storage__Prefix"] = prefix,
            ["ThreePL__Email__PickupDirectory"] = Path.Combine(Path.GetTempPath(), "bench-mail-" + prefix),
            // As the tests: safety nets fire 2 s after each command, so their cost falls inside the measured run.
            ["ThreePL__Outbox__SafetyNetDelay"] = "00:00:02",
            ["AzureFunctionsJobHost__extensions__queues__maxPollingInterval"] = "00:00:00.200",
            // A task hub of its own, named so the counting proxy can tell its traffic apart.
            ["AzureFunctionsJobHost__extensions__durableTask__hubName"] = hub,
            // Information logging of every request to a pipe would measure the console, not the app.
            ["Logging__LogLevel__Default"] = "Warning",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }
        // An empty working directory: no local.settings(.sample).json is picked up, only host.json next to the dll.
        var logDirectory = Path.Combine(AppContext.BaseDirectory, "logs");
        Directory.CreateDirectory(logDirectory);
        return new Child("dotnet", $"\"{dll}\"", Directory.CreateTempSubdirectory("bench-app-").FullName, environment, Path.Combine(logDirectory, $"app-{prefix}.log"));
    }

    public static async Task<double> WaitHealthyAsync(Uri baseUrl, Child app, TimeSpan limit)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < limit)
        {
            if (app.Process.HasExited)
            {
                throw new InvalidOperationException("The app exited: " + app.Stderr);
            }
            try
            {
                using var response = await http.GetAsync(new Uri(baseUrl, "/healthz"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return Stopwatch.GetElapsedTime(app.StartedAt).TotalMilliseconds;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(5);
        }
        throw new TimeoutException("The app did not answer /healthz: " + app.Stderr);
    }

    private static async Task<(string, double, List<double>)> ColdStartAsync(string label, string dll, Azurite azurite, int times, Dictionary<string, string> extra)
    {
        var all = new List<double>();
        for (var i = 0; i < times; i++)
        {
            var port = Child.FreePort();
            using var app = StartApp(dll, azurite.ConnectionString, port, "cold", "hubcold", extra);
            all.Add(await WaitHealthyAsync(new Uri($"http://127.0.0.1:{port}"), app, TimeSpan.FromSeconds(60)));
        }
        Console.WriteLine($"  {label}: {string.Join(", ", all.Select(a => a.ToString("F0", CultureInfo.InvariantCulture)))} ms");
        var sorted = all.Order().ToList();
        return (label, sorted[sorted.Count / 2], all);
    }

    private static async Task<double> ReceiverCeilingAsync(Receiver receiver, int runs)
    {
        var secret = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        receiver.Secrets["ceiling"] = secret;
        var body = JsonSerializer.Serialize(new
        {
            id = "evt_ceiling",
            type = "order.created",
            createdAt = DateTimeOffset.UtcNow,
            data = new
            {
                id = "ord_ceiling", externalId = "ceiling", status = "awaiting_shipment", merchantAccountId = "acc_x", connectionId = "con_x", version = 2,
                lines = new[] { new { sku = "SKU-1", quantity = 2 } },
                shipTo = new { name = "Ada", line1 = "Main St 1", city = "Berlin", postalCode = "10115", countryCode = "DE" },
            },
        });
        var url = new Uri(receiver.BaseUrl, "/hook/ceiling");
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });
        async Task<double> MeasureAsync(int count)
        {
            var next = -1;
            var watch = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, 32).Select(async _ =>
            {
                while (Interlocked.Increment(ref next) < count)
                {
                    var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                    using var hmac = new HMACSHA256(Convert.FromBase64String(secret["whsec_".Length..]));
                    var signature = "v1," + Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes($"evt_ceiling.{timestamp}.{body}")));
                    using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                    request.Headers.Add("webhook-id", "evt_ceiling");
                    request.Headers.Add("webhook-timestamp", timestamp);
                    request.Headers.Add("webhook-signature", signature);
                    using var response = await http.SendAsync(request);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        throw new InvalidOperationException($"receiver answered {(int)response.StatusCode}");
                    }
                }
            }));
            return count / watch.Elapsed.TotalSeconds;
        }
        await MeasureAsync(1000);
        var rates = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            rates.Add(await MeasureAsync(4000));
        }
        return Median(rates);
    }

    private static string Shell(string command)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("bash", ["-c", command]) { RedirectStandardOutput = true, UseShellExecute = false })!;
            var text = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return text;
        }
        catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception)
        {
            return "?";
        }
    }

    private static string FindRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "ThreePL.sln")))
            {
                return d.FullName;
            }
        }
        return Directory.GetCurrentDirectory();
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static string ArgString(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    private static double ArgDouble(string[] args, string name, double fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static int[] ArgList(string[] args, string name, int[] fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() : fallback;
    }
}
