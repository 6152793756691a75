using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues.Models;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Tests.Orders;

namespace ThreePL.Bench.EndToEnd;

/// <summary>
/// End-to-end benchmark: POST /v1/orders → routed → order.created webhook verified at a local receiver, with the
/// app run by the development host (src/LocalHost) as a separate process against its own in-memory Azurite. Also
/// measures, in the same run, cold start, storage operations per order (an in-process phase with a counting policy),
/// Azurite's ceiling for that mix of operations and the receiver's ceiling. Prints Markdown; with --quick, a short
/// run that ends with one machine-readable line. Usage: bench/run.sh [options], see docs/performance.md.
/// </summary>
public static class Program
{
    public const string AdminKey = "bench-admin-key";
    private const string SigningKey = "bench-signing-key-0123456789abcdef0123456789";

    public static async Task<int> Main(string[] args)
    {
        // --quick: one closed-loop run and one fixed rate (each on a fresh Azurite), the ceilings, default cold
        // start only; other options given with it still win.
        var quick = args.Contains("--quick");
        var orders = Arg(args, "--orders", quick ? 500 : 1000);
        var connections = ArgList(args, "--connections", quick ? [20] : [1, 20, 200]);
        var large = Arg(args, "--large", quick ? 0 : 10000);
        var largeConnections = Arg(args, "--large-connections", 20);
        var rates = ArgList(args, "--rates", quick ? [10] : [50, 10]);
        var rateSeconds = Arg(args, "--rate-seconds", 30);
        var maxBacklog = Arg(args, "--max-backlog", 200);
        var countOrders = Arg(args, "--count-orders", 500);
        var replayOrders = Arg(args, "--replay-orders", 400);
        var coldStarts = Arg(args, "--cold-starts", quick ? 3 : 5);
        var repo = Path.GetFullPath(ArgString(args, "--repo", FindRepoRoot()));
        var appDll = Path.GetFullPath(ArgString(args, "--app-dll", Path.Combine(repo, "src/LocalHost/bin/Release/net10.0/ThreePL.LocalHost.dll")));
        var r2rDll = ArgString(args, "--r2r-dll", "");
        r2rDll = r2rDll.Length > 0 ? Path.GetFullPath(r2rDll) : r2rDll;
        var outFile = ArgString(args, "--out", "");
        outFile = outFile.Length > 0 ? Path.GetFullPath(outFile) : outFile;
        // A fresh Azurite per run is the reference (docs/performance.md): --quick always uses it.
        var fresh = quick || args.Contains("--fresh-azurite");
        var largeLimit = Arg(args, "--large-time-limit", 600);
        // The development host reads local.settings(.sample).json from its working directory; the in-process
        // phase shares ours, so make it an empty one (the app processes get their own).
        Directory.SetCurrentDirectory(Directory.CreateTempSubdirectory("bench-cwd-").FullName);

        var report = new StringBuilder();
        void Emit(string line = "")
        {
            Console.WriteLine(line);
            report.AppendLine(line);
        }

        using var azurite = await Azurite.StartAsync(repo);
        await using var receiver = await Receiver.StartAsync();
        Console.WriteLine($"azurite tables pid {azurite.Table.Pid}, queues pid {azurite.Queue.Pid}; receiver {receiver.BaseUrl}");
        Emit($"# End-to-end benchmark, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Emit();
        Emit($"machine: {Environment.ProcessorCount} cores, {Shell("free -m | awk '/Mem:/{print $2\" MB\"}'")} RAM, {Shell(". /etc/os-release; echo $PRETTY_NAME")}, .NET {Environment.Version}; at start: `{Shell("uptime")}`");
        Emit();

        // 1. Cold start (before anything else loads the machine).
        var cold = new List<(string Label, double Median, List<double> All)>();
        if (coldStarts > 0)
        {
            Console.WriteLine("cold start ...");
            cold.Add(await ColdStartAsync("default (JIT, TieredPGO on)", appDll, azurite, coldStarts, new Dictionary<string, string>()));
            if (!quick)
            {
                cold.Add(await ColdStartAsync("DOTNET_TieredPGO=0", appDll, azurite, coldStarts, new Dictionary<string, string> { ["DOTNET_TieredPGO"] = "0" }));
                cold.Add(await ColdStartAsync("DOTNET_TieredCompilation=0", appDll, azurite, coldStarts,
                    new Dictionary<string, string> { ["DOTNET_TieredCompilation"] = "0" }));
            }
            if (r2rDll.Length > 0 && File.Exists(r2rDll))
            {
                cold.Add(await ColdStartAsync("ReadyToRun publish of the development host", r2rDll, azurite, coldStarts, new Dictionary<string, string>()));
            }
        }

        // 2. Storage operations per routed order: the app in-process with the tests' counting policy.
        Console.WriteLine($"counting storage operations over {countOrders} orders (in-process app) ...");
        var (perOrder, countRun) = await Counting.RunAsync(azurite, receiver, countOrders, maxBacklog);

        // 3. Ceilings: Azurite replaying that mix with our clients; the receiver with a bare HttpClient.
        //    The replay gets an Azurite of its own: on the one the counting phase had just used, a replay's queue
        //    process once spent ~4× its usual CPU and gave a "ceiling" below the app's own throughput.
        Console.WriteLine("Azurite ceiling ...");
        Replay.Result replay;
        using (var replayAzurite = await Azurite.StartAsync(repo))
        {
            replay = await Replay.RunAsync(replayAzurite, perOrder, replayOrders, workers: 32);
        }
        Console.WriteLine("receiver ceiling ...");
        var receiverCeiling = await ReceiverCeilingAsync(receiver);

        // 4. The real app as its own process: one app and Azurite for all runs, or (--fresh-azurite) a new Azurite
        //    and a new app per run, so one run's leftovers in Azurite cannot slow the next.
        var results = new List<RunResult>();
        var fixedRates = new List<RunResult>();
        long appPeak = 0;
        var notes = new List<string>();
        var shared = fresh ? null : await Stage.StartAsync(appDll, azurite, receiver, maxBacklog, owned: false);
        async Task<RunResult?> OnStageAsync(string label, Func<Stage, Task<RunResult>> run)
        {
            var stage = shared ?? await Stage.StartAsync(appDll, await Azurite.StartAsync(repo), receiver, maxBacklog, owned: true);
            try
            {
                if (stage.App.Process.HasExited)
                {
                    return null;
                }
                Console.WriteLine(label + " ...");
                var result = await run(stage);
                Print(result);
                appPeak = Math.Max(appPeak, ProcStat.StatusKb(stage.App.Pid, "VmHWM"));
                if (stage.App.Process.HasExited)
                {
                    notes.Add($"**The app process exited during {label} (code {stage.App.Process.ExitCode}); log: {stage.LogPath}. stderr tail:**\n```\n{(stage.App.Stderr.Length > 3000 ? stage.App.Stderr[^3000..] : stage.App.Stderr)}\n```");
                }
                else
                {
                    await stage.Monitor.QuiesceAsync(TimeSpan.FromSeconds(120));
                }
                return result;
            }
            finally
            {
                if (shared is null)
                {
                    stage.Dispose();
                }
            }
        }
        foreach (var c in connections)
        {
            if (await OnStageAsync($"{orders} orders, {c} connections", s => s.Load.ClosedLoopAsync($"n{orders}c{c}", s.Tenancy, orders, c, maxBacklog, s.Monitor)) is { } r)
            {
                results.Add(r);
            }
        }
        foreach (var rate in rateSeconds > 0 ? rates : [])
        {
            if (await OnStageAsync($"fixed rate {rate}/s for {rateSeconds} s", s => s.Load.FixedRateAsync($"rate{rate}", s.Tenancy, rate, rateSeconds, s.Monitor)) is { } r)
            {
                fixedRates.Add(r);
            }
        }
        if (large > 0 && await OnStageAsync($"{large} orders, {largeConnections} connections (stop submitting after {largeLimit} s)",
                s => s.Load.ClosedLoopAsync($"n{large}c{largeConnections}", s.Tenancy, large, largeConnections, maxBacklog, s.Monitor, TimeSpan.FromSeconds(largeLimit))) is { } big)
        {
            results.Add(big);
        }
        shared?.Dispose();
        foreach (var note in notes)
        {
            Emit(note);
        }

        // Report.
        var allOps = perOrder.Values.Sum();
        // Receives are amortised polls (idle polls included), not a per-order necessity: "minimal" leaves them out.
        var minimalOps = perOrder.Where(p => p.Key != "queue-receive").Sum(p => p.Value);
        Emit("## Throughput and latency (POST /v1/orders → verified order.created webhook)");
        Emit();
        Emit($"20 merchant–3PL connections (5 3PLs × 4 merchants), each with its own webhook URL; closed loop with at most {maxBacklog} accepted-but-undelivered orders in flight; {(fresh ? "a fresh Azurite and app process per run" : "one Azurite and app process for all runs")}, 100-order warm-up before.");
        Emit();
        Emit("| run | HTTP connections | orders (accepted / failed) | delivered + verified | intake s | end-to-end s | orders/s | p50 ms | p95 ms | p99 ms | max ms | peak app RSS MB | app CPU s | azurite-table CPU s | azurite-queue CPU s | max queue depth |");
        Emit("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results.Concat(fixedRates))
        {
            Emit(Row(r));
        }
        Emit();
        Emit($"Webhooks: {receiver.Requests} requests, {receiver.Rejected} failed verification, {receiver.Duplicates} duplicate event ids, {receiver.OtherEvents} other event types. App peak working set (VmHWM, highest over the app processes): {appPeak / 1024.0:F0} MB.");
        Emit();
        Emit($"## Storage operations per routed order (in-process phase, {countRun.Delivered} orders, 20 connections, counting policy)");
        Emit();
        Emit("| kind | per order |");
        Emit("|---|---|");
        foreach (var (kind, value) in perOrder.OrderBy(p => p.Key))
        {
            Emit($"| {kind}{(kind is "queue-receive" or "queue-delete" or "queue-update" ? " (the host's queue trigger)" : "")} | {value:F2} |");
        }
        Emit($"| **total** | **{allOps:F2}** |");
        Emit($"| total without queue receives (minimal per order) | {minimalOps:F2} |");
        Emit();
        Emit($"In-process phase: {countRun.OrdersPerSecond:F1} orders/s, p50 {countRun.P50:F0} ms, p99 {countRun.P99:F0} ms.");
        Emit();
        Emit("## Ceilings");
        Emit();
        Emit($"- Azurite (a fresh one), replaying that mix per synthetic order with our own clients, 32 concurrent workers, {replay.Orders} synthetic orders, each receive asking for only the messages the order will delete: " +
             $"**{replay.OrdersPerSecond:F1} orders/s** = {replay.OperationsPerSecond:F0} operations/s ({replay.Seconds:F1} s; replayed per order: {string.Join(", ", replay.PerOrder.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value:F2}"))}); " +
             $"azurite-table CPU {replay.TableCpu:F1} s, azurite-queue CPU {replay.QueueCpu:F1} s.");
        Emit($"- Receiver: bare HttpClient, 32 concurrent, signed body verified by the same handler: **{receiverCeiling:F0} requests/s**.");
        Emit();
        var target = 0.5 * replay.OperationsPerSecond / minimalOps;
        Emit($"Target: ≥ 50 % × Azurite ceiling {replay.OperationsPerSecond:F0} ops/s ÷ {minimalOps:F2} minimal ops per order = **{target:F1} orders/s**.");
        Emit();
        // On a shared machine the replay and each run get different shares of the CPU, so the ratio of rates moves
        // with the load; Azurite CPU per order (replay vs run) is a steadier comparison.
        var replayCpuPerOrder = 1000 * (replay.TableCpu + replay.QueueCpu) / replay.Orders;
        Emit("| run | orders/s | ÷ Azurite replay ceiling (orders/s of the same mix) | target ≥ 50 % ({0:F1} orders/s) | Azurite CPU ms per order (replay: {1:F0}) | webhooks/s ÷ receiver ceiling |"
            .Replace("{0:F1}", target.ToString("F1", CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{1:F0}", replayCpuPerOrder.ToString("F0", CultureInfo.InvariantCulture), StringComparison.Ordinal));
        Emit("|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            Emit($"| {r.Name} | {r.OrdersPerSecond:F1} | {r.OrdersPerSecond / replay.OrdersPerSecond:P0} | {(r.OrdersPerSecond >= target ? "met" : "missed")} | {1000 * (r.TableCpu + r.QueueCpu) / r.Delivered:F0} | {r.OrdersPerSecond / receiverCeiling:P1} |");
        }
        Emit();
        foreach (var fixedRate in fixedRates)
        {
            Emit($"Fixed rate {fixedRate.Name} for {rateSeconds} s: p50 {fixedRate.P50:F0} ms, p95 {fixedRate.P95:F0} ms, p99 {fixedRate.P99:F0} ms (p99 < 1 000 ms: {(fixedRate.P99 < 1000 ? "met" : "missed")}), delivered {fixedRate.OrdersPerSecond:F1} orders/s, max queue depth {fixedRate.MaxQueueDepth}.");
        }
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
        Emit($"at end: `{Shell("uptime")}`");
        if (quick)
        {
            // The one machine-readable line (docs/performance.md defines each term); nothing is printed after it.
            var measured = results.Concat(fixedRates).ToList();
            string F(double value, string format) => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "nan";
            Emit();
            Emit($"bench: ops_per_order={F(allOps, "F1")} " +
                 $"ceiling_ratio={F(results.Count > 0 ? results[0].OrdersPerSecond / replay.OrdersPerSecond : double.NaN, "F2")} " +
                 $"p99_ms={F(fixedRates.Count > 0 ? fixedRates[0].P99 : double.NaN, "F0")} " +
                 $"delivered={measured.Sum(r => r.Delivered)}/{measured.Sum(r => r.Submitted)} " +
                 $"duplicates={receiver.Duplicates} peak_rss_mb={appPeak / 1024.0:F0}");
        }
        if (outFile.Length > 0)
        {
            await File.WriteAllTextAsync(outFile, report.ToString());
        }
        return 0;
    }

    private static void Print(RunResult r) => Console.WriteLine("  " + Row(r));

    private static string Row(RunResult r) =>
        $"| {r.Name} | {r.Connections} | {r.Submitted - r.Failed} / {r.Failed} | {r.Delivered} | {r.IntakeSeconds:F1} | {r.Seconds:F1} | {r.OrdersPerSecond:F1} | {r.P50:F0} | {r.P95:F0} | {r.P99:F0} | {r.Max:F0} | {r.PeakRssKb / 1024.0:F0} | {r.AppCpu:F1} | {r.TableCpu:F1} | {r.QueueCpu:F1} | {r.MaxQueueDepth} |";

    public static Dictionary<string, string> AppEnvironment(Azurite azurite, int port, string prefix) => new()
    {
        ["AzureWebJobsStorage"] = azurite.ConnectionString,
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
        // Information logging of every request to a pipe would measure the console, not the app.
        ["Logging__LogLevel__Default"] = "Warning",
    };

    public static Child StartApp(string dll, Azurite azurite, int port, string prefix, IDictionary<string, string>? extra = null)
    {
        var environment = AppEnvironment(azurite, port, prefix);
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
            using var app = StartApp(dll, azurite, port, "cold", extra);
            all.Add(await WaitHealthyAsync(new Uri($"http://127.0.0.1:{port}"), app, TimeSpan.FromSeconds(60)));
        }
        Console.WriteLine($"  {label}: {string.Join(", ", all.Select(a => a.ToString("F0", CultureInfo.InvariantCulture)))} ms");
        var sorted = all.Order().ToList();
        return (label, sorted[sorted.Count / 2], all);
    }

    private static async Task<double> ReceiverCeilingAsync(Receiver receiver)
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
        var runs = new List<double> { await MeasureAsync(4000), await MeasureAsync(4000), await MeasureAsync(4000) };
        return runs.Order().ElementAt(1);
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

    private static int[] ArgList(string[] args, string name, int[] fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() : fallback;
    }
}

/// <summary>The app as its own process, seeded with the 20 connections and warmed up, with its monitor.</summary>
public sealed class Stage : IDisposable
{
    private readonly Azurite? _ownedAzurite;

    private Stage(Child app, Load load, Tenancy tenancy, Monitor monitor, string logPath, Azurite? ownedAzurite)
    {
        App = app;
        Load = load;
        Tenancy = tenancy;
        Monitor = monitor;
        LogPath = logPath;
        _ownedAzurite = ownedAzurite;
    }

    public Child App { get; }

    public Load Load { get; }

    public Tenancy Tenancy { get; }

    public Monitor Monitor { get; }

    public string LogPath { get; }

    public static async Task<Stage> StartAsync(string appDll, Azurite azurite, Receiver receiver, int maxBacklog, bool owned)
    {
        var prefix = "e2e" + RandomNumberGenerator.GetHexString(8, lowercase: true);
        var port = Child.FreePort();
        var app = Program.StartApp(appDll, azurite, port, prefix);
        var baseUrl = new Uri($"http://127.0.0.1:{port}");
        await Program.WaitHealthyAsync(baseUrl, app, TimeSpan.FromSeconds(60));
        var load = new Load(baseUrl, Program.AdminKey, receiver);
        var tenancy = await load.SeedAsync(threePls: 5, merchantsEach: 4);
        var monitor = new Monitor(app.Pid, azurite, prefix) { Alive = () => !app.Process.HasExited };
        await Task.Delay(3000);
        await monitor.QuiesceAsync(TimeSpan.FromSeconds(30));
        Console.WriteLine("warm-up 100 orders ...");
        await load.ClosedLoopAsync("warm", tenancy, 100, 20, maxBacklog, monitor);
        await monitor.QuiesceAsync(TimeSpan.FromSeconds(60));
        return new Stage(app, load, tenancy, monitor, Path.Combine(AppContext.BaseDirectory, "logs", $"app-{prefix}.log"), owned ? azurite : null);
    }

    public void Dispose()
    {
        App.Dispose();
        _ownedAzurite?.Dispose();
    }
}

/// <summary>Azurite's ceiling: the counted per-order mix of operations, issued directly with the app's clients.</summary>
public static class Replay
{
    public sealed record Result(int Orders, double Seconds, double OrdersPerSecond, double OperationsPerSecond, Dictionary<string, double> PerOrder, double TableCpu, double QueueCpu);

    public static async Task<Result> RunAsync(Azurite azurite, Dictionary<string, double> perOrder, int orders, int workers)
    {
        var counter = new StorageOperationCounter(azurite.QueuePort);
        var name = "replay" + RandomNumberGenerator.GetHexString(8, lowercase: true);
        var table = azurite.Tables(new StoragePolicy(counter)).GetTableClient(name);
        var queue = azurite.Queues(new StoragePolicy(counter)).GetQueueClient(name);
        await table.CreateIfNotExistsAsync();
        await queue.CreateIfNotExistsAsync();
        double Rate(string kind) => perOrder.TryGetValue(kind, out var v) ? v : 0;
        int Count(string kind, int k) => (int)(Math.Floor((k + 1) * Rate(kind)) - Math.Floor(k * Rate(kind)));

        async Task OrderAsync(int k, List<QueueMessage> pool)
        {
            var pk = $"o{k}";
            var deletes = Count("table-delete", k);
            for (var b = 0; b < Count("table-batch", k); b++)
            {
                var actions = new List<TableTransactionAction>
                {
                    new(b == 0 ? TableTransactionActionType.Add : TableTransactionActionType.UpdateReplace, Entity(pk, "order", k), ETag.All),
                    new(TableTransactionActionType.Add, Entity(pk, $"history|{b}", k)),
                };
                for (var d = 0; b == 0 && d < deletes; d++)
                {
                    actions.Add(new(TableTransactionActionType.Add, Entity(pk, $"outbox|{d}", k)));
                }
                await table.CommitAsync(actions);
            }
            for (var i = 0; i < Count("table-insert", k); i++)
            {
                await table.AddEntityAsync(Entity($"m|{k % 20}", $"{k}-{i}", k));
            }
            for (var i = 0; i < Count("queue-send", k); i++)
            {
                await queue.SendMessageAsync($"{{\"orderId\":\"{pk}\",\"i\":{i}}}");
            }
            for (var i = 0; i < Count("table-read", k); i++)
            {
                await table.GetEntityIfExistsAsync<TableEntity>(pk, "order");
            }
            for (var i = 0; i < Count("table-query", k); i++)
            {
                await foreach (var _ in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {"history|"} and RowKey lt {"history}"}")))
                {
                }
            }
            for (var i = 0; i < Count("table-update", k); i++)
            {
                await table.UpdateEntityAsync(Entity(pk, "order", k), ETag.All, TableUpdateMode.Replace);
            }
            // Receive only as many as this order will delete, so workers do not hold (and deepen the queue with)
            // received messages: the app deletes what it receives.
            var wanted = Math.Max(0, Count("queue-delete", k) - pool.Count);
            for (var i = 0; i < Count("queue-receive", k); i++)
            {
                pool.AddRange(await queue.ReceiveMessagesAsync(Math.Clamp(wanted, 1, 32), TimeSpan.FromSeconds(120)));
                wanted = Math.Max(0, Count("queue-delete", k) - pool.Count);
            }
            for (var d = 0; d < deletes; d++)
            {
                await table.DeleteEntityAsync(pk, $"outbox|{d}");
            }
            for (var i = 0; i < Count("queue-delete", k) && pool.Count > 0; i++)
            {
                var message = pool[^1];
                pool.RemoveAt(pool.Count - 1);
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
        }

        async Task RunWorkersAsync(int from, int to)
        {
            var next = from - 1;
            await Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
            {
                var pool = new List<QueueMessage>();
                int k;
                while ((k = Interlocked.Increment(ref next)) < to)
                {
                    await OrderAsync(k, pool);
                }
                foreach (var message in pool)
                {
                    await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                }
            }));
        }

        await RunWorkersAsync(0, Math.Min(50, orders));
        counter.Reset();
        var tableCpu = ProcStat.CpuSeconds(azurite.Table.Pid);
        var queueCpu = ProcStat.CpuSeconds(azurite.Queue.Pid);
        var watch = Stopwatch.StartNew();
        await RunWorkersAsync(1_000_000, 1_000_000 + orders);
        watch.Stop();
        var counts = counter.Snapshot();
        var total = counts.Values.Sum();
        await table.DeleteAsync();
        await queue.DeleteAsync();
        return new Result(orders, watch.Elapsed.TotalSeconds, orders / watch.Elapsed.TotalSeconds, total / watch.Elapsed.TotalSeconds,
            counts.ToDictionary(c => c.Key, c => (double)c.Value / orders, StringComparer.Ordinal),
            ProcStat.CpuSeconds(azurite.Table.Pid) - tableCpu, ProcStat.CpuSeconds(azurite.Queue.Pid) - queueCpu);
    }

    private static TableEntity Entity(string pk, string rk, int k) => new(pk, rk)
    {
        ["Status"] = "awaiting_shipment",
        ["Version"] = 2L,
        ["Payload"] = $"{{\"lines\":[{{\"sku\":\"SKU-{k % 7}\",\"quantity\":2}}],\"shipTo\":{{\"name\":\"Ada\",\"line1\":\"Main St 1\",\"city\":\"Berlin\",\"postalCode\":\"10115\",\"countryCode\":\"DE\"}}}}",
    };
}
