using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Bench.EndToEnd;

/// <summary>The seeded parties: merchant keys for intake, and per connection id the API key of its 3PL for the fulfilment commands.</summary>
public sealed record Tenancy(IReadOnlyList<string> MerchantKeys, IReadOnlyList<string> ConnectionIds, IReadOnlyDictionary<string, string> ThreePlKeys);

/// <summary>One POST of a 3PL command: the caller's key, the path and the JSON body (null for none).</summary>
public sealed record Command(string Key, string Path, object? Body);

public sealed record RunResult(
    string Name,
    int Connections,
    int Submitted,
    int Failed,
    int Delivered,
    double IntakeSeconds,
    double Seconds,
    double OrdersPerSecond,
    double SteadyOrdersPerSecond,
    double P50,
    double P95,
    double P99,
    double Max,
    long PeakRssKb,
    double AppCpu,
    double AzuriteCpu,
    int MaxQueueDepth);

/// <summary>Seeds accounts and connections over the public API and drives order intake.</summary>
public sealed class Load(Uri baseUrl, string adminKey, Receiver receiver)
{
    /// <summary>
    /// The operator creates <paramref name="threePls"/> 3PLs with <paramref name="merchantsEach"/> merchants each;
    /// every 3PL invites its merchants, each merchant approves, and the 3PL sets the connection's webhook URL to the
    /// receiver and hands its secret to it.
    /// </summary>
    public async Task<Tenancy> SeedAsync(int threePls, int merchantsEach)
    {
        using var http = new HttpClient { BaseAddress = baseUrl };
        var merchantKeys = new List<string>();
        var connectionIds = new List<string>();
        var threePlKeys = new Dictionary<string, string>(StringComparer.Ordinal);
        var distinctThreePlKeys = new List<string>();
        for (var t = 0; t < threePls; t++)
        {
            var (_, tplKey) = await CreateAccountAsync(http, "threepl");
            distinctThreePlKeys.Add(tplKey);
            for (var m = 0; m < merchantsEach; m++)
            {
                var (merchantId, merchantKey) = await CreateAccountAsync(http, "merchant");
                var invite = await SendAsync(http, HttpMethod.Post, "/v1/connections", tplKey, new { accountId = merchantId }, HttpStatusCode.Created);
                var connectionId = invite.GetProperty("id").GetString()!;
                await SendAsync(http, HttpMethod.Post, $"/v1/connections/{connectionId}/approve", merchantKey, new { confirm = true }, HttpStatusCode.OK);
                var settings = await SendAsync(http, HttpMethod.Patch, $"/v1/connections/{connectionId}/settings", tplKey,
                    new { webhookUrl = new Uri(receiver.BaseUrl, $"/hook/{connectionId}").ToString() }, HttpStatusCode.OK);
                receiver.Secrets[connectionId] = settings.GetProperty("webhookSecret").GetString()!;
                merchantKeys.Add(merchantKey);
                connectionIds.Add(connectionId);
                threePlKeys[connectionId] = tplKey;
            }
        }
        foreach (var key in merchantKeys.Concat(distinctThreePlKeys))
        {
            // Warm each key (its lastUsedAt touch) so authentication is one read per request while measuring.
            await SendAsync(http, HttpMethod.Get, "/v1/account", key, null, HttpStatusCode.OK);
        }
        return new Tenancy(merchantKeys, connectionIds, threePlKeys);
    }

    private async Task<(string Id, string Key)> CreateAccountAsync(HttpClient http, string kind)
    {
        var json = await SendAsync(http, HttpMethod.Post, "/v1/admin/accounts", adminKey,
            new { kind, name = $"Bench {kind}", email = $"{Guid.NewGuid():N}@bench.example" }, HttpStatusCode.Created);
        return (json.GetProperty("id").GetString()!, json.GetProperty("apiKey").GetString()!);
    }

    private static async Task<JsonElement> SendAsync(HttpClient http, HttpMethod method, string path, string key, object? body, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != expected)
        {
            throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}");
        }
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static HttpRequestMessage OrderRequest(string key, string externalId)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/orders");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        request.Content = JsonContent.Create(new
        {
            externalId,
            lines = new[] { new { sku = "SKU-" + (externalId.Length % 7).ToString(CultureInfo.InvariantCulture), quantity = 2 } },
            shipTo = new { name = "Ada", line1 = "Main St 1", city = "Berlin", postalCode = "10115", countryCode = "DE" },
        });
        return request;
    }

    private static HttpClient Client(Uri baseUrl, int connections) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = connections,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        UseProxy = false,
    })
    { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(120) };

    /// <summary>
    /// Submits one order; a 503 (the app shedding load, or storage briefly unavailable) is retried after its
    /// Retry-After, as a well-behaved client would, so backpressure slows the loop instead of failing orders.
    /// </summary>
    private static async Task<bool> SubmitAsync(HttpClient http, string key, string externalId)
    {
        try
        {
            for (var attempt = 0; attempt < 100; attempt++)
            {
                using var request = OrderRequest(key, externalId);
                using var response = await http.SendAsync(request);
                await response.Content.ReadAsByteArrayAsync();
                if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
                {
                    return response.StatusCode == HttpStatusCode.Created;
                }
                await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(200));
            }
            return false;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// Closed loop: <paramref name="connections"/> HTTP connections, each submitting its next order as soon as the
    /// previous answer arrives, paused while more than <paramref name="maxBacklog"/> accepted orders are not yet
    /// delivered (keeps Azurite's queues at hundreds of messages, see PLATFORM-NOTES).
    /// </summary>
    public async Task<RunResult> ClosedLoopAsync(string name, Tenancy tenancy, int n, int connections, int maxBacklog, Monitor monitor, TimeSpan? limit = null)
    {
        using var http = Client(baseUrl, connections);
        var run = $"{name}-{Guid.NewGuid():N}"[..20];
        var starts = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var failed = 0;
        var accepted = 0;
        var next = -1;
        var baseline = receiver.Arrivals.Count;
        monitor.Begin();
        var t0 = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < n && (limit is null || Stopwatch.GetElapsedTime(t0) < limit))
            {
                while (Volatile.Read(ref accepted) - (receiver.Arrivals.Count - baseline) >= maxBacklog)
                {
                    await Task.Delay(20);
                }
                var externalId = $"{run}-{i}";
                starts[externalId] = Stopwatch.GetTimestamp();
                if (await SubmitAsync(http, tenancy.MerchantKeys[i % tenancy.MerchantKeys.Count], externalId))
                {
                    Interlocked.Increment(ref accepted);
                }
                else
                {
                    starts.TryRemove(externalId, out long _);
                    Interlocked.Increment(ref failed);
                }
            }
        }));
        var intakeSeconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        return await FinishAsync(name, connections, Math.Min(n, accepted + failed), failed, starts, t0, intakeSeconds, monitor);
    }

    /// <summary>
    /// Sends <paramref name="commands"/> over <paramref name="connections"/> HTTP connections, each its next as soon as
    /// the previous answer arrives; a 503 is retried after its Retry-After as <see cref="SubmitAsync"/> does. Returns
    /// the indexes of the commands answered 200 and a description of each other answer.
    /// </summary>
    public async Task<(IReadOnlyList<int> Succeeded, IReadOnlyList<string> Failures)> SendAllAsync(IReadOnlyList<Command> commands, int connections)
    {
        using var http = Client(baseUrl, connections);
        var succeeded = new ConcurrentBag<int>();
        var failures = new ConcurrentBag<string>();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < commands.Count)
            {
                var failure = await SendCommandAsync(http, commands[i]);
                if (failure is null)
                {
                    succeeded.Add(i);
                }
                else
                {
                    failures.Add(failure);
                }
            }
        }));
        return (succeeded.Order().ToList(), failures.ToList());
    }

    private static async Task<string?> SendCommandAsync(HttpClient http, Command command)
    {
        try
        {
            for (var attempt = 0; attempt < 100; attempt++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, command.Path);
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", command.Key);
                if (command.Body is not null)
                {
                    request.Content = JsonContent.Create(command.Body);
                }
                using var response = await http.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return null;
                }
                if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
                {
                    return $"POST {command.Path}: {(int)response.StatusCode} {text}";
                }
                await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(200));
            }
            return $"POST {command.Path}: 503 a hundred times";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return $"POST {command.Path}: {e.Message}";
        }
    }

    /// <summary>Open loop: one order every 1/<paramref name="rate"/> s for <paramref name="seconds"/>, whatever the answers; latency from the scheduled time.</summary>
    public async Task<RunResult> FixedRateAsync(string name, Tenancy tenancy, double rate, int seconds, Monitor monitor)
    {
        const int connections = 200;
        using var http = Client(baseUrl, connections);
        var run = $"{name}-{Guid.NewGuid():N}"[..20];
        var n = (int)(rate * seconds);
        var starts = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var failed = 0;
        var tasks = new List<Task>(n);
        monitor.Begin();
        var t0 = Stopwatch.GetTimestamp();
        for (var i = 0; i < n; i++)
        {
            var due = t0 + (long)(i / rate * Stopwatch.Frequency);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
            var externalId = $"{run}-{i}";
            starts[externalId] = due;
            var key = tenancy.MerchantKeys[i % tenancy.MerchantKeys.Count];
            tasks.Add(Task.Run(async () =>
            {
                if (!await SubmitAsync(http, key, externalId))
                {
                    starts.TryRemove(externalId, out long _);
                    Interlocked.Increment(ref failed);
                }
            }));
        }
        await Task.WhenAll(tasks);
        var intakeSeconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        return await FinishAsync(name, connections, n, failed, starts, t0, intakeSeconds, monitor);
    }

    private async Task<RunResult> FinishAsync(string name, int connections, int n, int failed, ConcurrentDictionary<string, long> starts, long t0, double intakeSeconds, Monitor monitor)
    {
        // Wait for every accepted order's webhook; give up after 180 s without progress (reported, never padded).
        var lastCount = -1;
        var lastProgress = Stopwatch.GetTimestamp();
        while (true)
        {
            var delivered = starts.Keys.Count(receiver.Arrivals.ContainsKey);
            if (delivered == starts.Count)
            {
                break;
            }
            if (!monitor.Alive())
            {
                Console.WriteLine($"  {name}: THE APP EXITED, {delivered}/{starts.Count} delivered");
                break;
            }
            if (delivered != lastCount)
            {
                lastCount = delivered;
                lastProgress = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(lastProgress) > TimeSpan.FromSeconds(180))
            {
                Console.WriteLine($"  {name}: gave up waiting, {delivered}/{starts.Count} delivered");
                break;
            }
            await Task.Delay(100);
        }
        var usage = monitor.End();
        var latencies = new List<double>();
        long end = t0;
        foreach (var (externalId, start) in starts)
        {
            if (receiver.Arrivals.TryGetValue(externalId, out var at))
            {
                latencies.Add(Stopwatch.GetElapsedTime(start, at).TotalMilliseconds);
                end = Math.Max(end, at);
            }
        }
        latencies.Sort();
        var seconds = Stopwatch.GetElapsedTime(t0, end).TotalSeconds;
        return new RunResult(name, connections, n, failed, latencies.Count, intakeSeconds, seconds, latencies.Count / seconds, SteadyRate(starts.Keys, t0, intakeSeconds, latencies.Count / seconds),
            Percentile(latencies, 0.50), Percentile(latencies, 0.95), Percentile(latencies, 0.99), latencies.Count > 0 ? latencies[^1] : double.NaN,
            usage.PeakRssKb, usage.AppCpu, usage.AzuriteCpu, usage.MaxQueueDepth);
    }

    /// <summary>
    /// Webhooks verified per second between the first webhook and the end of submission: the pipeline is then
    /// working through a backlog while intake goes on, so this is its rate without the fill and the drain. When the
    /// first webhook came after the first half of submission (a stall at the start would leave a short, flattering
    /// span), the whole run's rate (first POST → last webhook).
    /// </summary>
    private double SteadyRate(IEnumerable<string> externalIds, long t0, double intakeSeconds, double wholeRunRate)
    {
        var arrivals = externalIds.Select(id => receiver.Arrivals.TryGetValue(id, out var at) ? Stopwatch.GetElapsedTime(t0, at).TotalSeconds : double.NaN)
            .Where(double.IsFinite).Order().ToList();
        if (arrivals.Count == 0 || arrivals[0] > intakeSeconds / 2)
        {
            return wholeRunRate;
        }
        return arrivals.Count(second => second > arrivals[0] && second <= intakeSeconds) / (intakeSeconds - arrivals[0]);
    }

    public static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}

public sealed record Usage(long PeakRssKb, double AppCpu, double AzuriteCpu, int MaxQueueDepth);

/// <summary>
/// Samples, during a run, the app's working set (VmRSS every 200 ms), the depth of the app's queues (every
/// second), and the CPU seconds the app and the three Azurite processes used (from /proc/&lt;pid&gt;/stat).
/// </summary>
public sealed class Monitor(int appPid, Azurite azurite, string prefix)
{
    // Billing too: a shipment's usage line is recorded from its own queue after the webhook may have arrived.
    private static readonly string[] s_queues = ["order-routing", "events", "outbox", "order-follow-ups", "webhook-deliveries", "billing"];
    private readonly QueueServiceClient _queues = azurite.Queues();
    private CancellationTokenSource? _stop;
    private Task? _sampler;
    private long _peakRss;
    private int _maxDepth;
    private (double App, double Azurite) _cpuAtStart;

    public int LastDepth { get; private set; }

    public Func<bool> Alive { get; set; } = () => true;

    public void Begin()
    {
        _peakRss = 0;
        _maxDepth = 0;
        _cpuAtStart = Cpu();
        _stop = new CancellationTokenSource();
        var token = _stop.Token;
        _sampler = Task.Run(async () =>
        {
            var tick = 0;
            while (!token.IsCancellationRequested)
            {
                _peakRss = Math.Max(_peakRss, ProcStat.StatusKb(appPid, "VmRSS"));
                if (tick++ % 5 == 0)
                {
                    var depth = await DepthAsync();
                    _maxDepth = Math.Max(_maxDepth, depth);
                }
                try
                {
                    await Task.Delay(200, token);
                }
                catch (TaskCanceledException)
                {
                }
            }
        });
    }

    public Usage End()
    {
        _stop?.Cancel();
        _sampler?.Wait();
        var cpu = Cpu();
        return new Usage(_peakRss, cpu.App - _cpuAtStart.App, cpu.Azurite - _cpuAtStart.Azurite, _maxDepth);
    }

    public async Task<int> DepthAsync()
    {
        var total = 0;
        foreach (var queue in s_queues)
        {
            try
            {
                total += await _queues.GetQueueClient(prefix + queue).ApproximateCountAsync();
            }
            catch (Azure.RequestFailedException)
            {
            }
        }
        LastDepth = total;
        return total;
    }

    /// <summary>Waits until the app's queues are empty twice in a row (safety nets included), at most <paramref name="limit"/>.</summary>
    public async Task QuiesceAsync(TimeSpan limit)
    {
        var watch = Stopwatch.StartNew();
        var empty = 0;
        while (watch.Elapsed < limit && empty < 2)
        {
            await Task.Delay(1000);
            empty = await DepthAsync() == 0 ? empty + 1 : 0;
        }
    }

    private (double App, double Azurite) Cpu() => (ProcStat.CpuSeconds(appPid), azurite.CpuSeconds);
}
