using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Tests.Infrastructure;
using ThreePL.Functions.Tests.Webhooks;

namespace ThreePL.Bench.EndToEnd;

/// <summary>A child process with its output drained (a full pipe would block it) and a tail of stderr kept.</summary>
public sealed class Child : IDisposable
{
    private readonly StringBuilder _stderr = new();

    private readonly StreamWriter? _log;

    public Child(string file, string arguments, string workingDirectory, IDictionary<string, string>? environment = null, string? logPath = null)
    {
        _log = logPath is null ? null : new StreamWriter(logPath, append: true) { AutoFlush = true };
        var info = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        Process = new Process { StartInfo = info };
        Process.ErrorDataReceived += (_, e) =>
        {
            lock (_stderr)
            {
                if (_stderr.Length < 20_000)
                {
                    _stderr.AppendLine(e.Data);
                }
                _log?.WriteLine(e.Data);
            }
        };
        Process.OutputDataReceived += (_, e) =>
        {
            lock (_stderr)
            {
                _log?.WriteLine(e.Data);
            }
        };
        StartedAt = Stopwatch.GetTimestamp();
        Process.Start();
        Process.BeginErrorReadLine();
        Process.BeginOutputReadLine();
    }

    public Process Process { get; }

    public long StartedAt { get; }

    public int Pid => Process.Id;

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public void Dispose()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        Process.Dispose();
        lock (_stderr)
        {
            _log?.Dispose();
        }
    }

    public static int FreePort() => FreePorts(1)[0];

    /// <summary>
    /// <paramref name="count"/> distinct free ports: all are held until every one is chosen, since the system may hand
    /// out a port it has just seen released again (a replay's blob service once got its queue service's port).
    /// </summary>
    public static IReadOnlyList<int> FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToList();
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }

    public static async Task WaitForPortAsync(Child child, int port, string name)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && !child.Process.HasExited)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        throw new InvalidOperationException($"{name} did not listen on {port}: {child.Stderr}");
    }
}

/// <summary>
/// azurite-blob, azurite-table and azurite-queue as three in-memory processes on free ports, as the test fixture runs
/// them (blob is for the Durable task hub's leases).
/// </summary>
public sealed class Azurite : IDisposable
{
    // Azurite's documented development account (the same for every Azurite).
    public const string AccountName = "devstoreaccount1";
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly string _directory;

    private Azurite(Child blob, Child table, Child queue, IReadOnlyDictionary<StorageService, int> ports, string directory)
    {
        _directory = directory;
        Blob = blob;
        Table = table;
        Queue = queue;
        Ports = ports;
        ConnectionString = $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};" +
            string.Concat(ports.Select(p => $"{p.Key}Endpoint=http://127.0.0.1:{p.Value}/{AccountName};"));
    }

    public Child Blob { get; }

    public Child Table { get; }

    public Child Queue { get; }

    public IReadOnlyDictionary<StorageService, int> Ports { get; }

    public string ConnectionString { get; }

    /// <summary>CPU seconds all three processes have used so far.</summary>
    public double CpuSeconds => ProcStat.CpuSeconds(Blob.Pid) + ProcStat.CpuSeconds(Table.Pid) + ProcStat.CpuSeconds(Queue.Pid);

    /// <summary>The app's own client factory (base64 messages, the service version Azurite accepts).</summary>
    public TableServiceClient Tables() => StorageClients.Tables(StorageClients.FromConnectionString(ConnectionString));

    public QueueServiceClient Queues() => StorageClients.Queues(StorageClients.FromConnectionString(ConnectionString));

    /// <summary>
    /// How often every queue service this benchmark starts collects its garbage (bench/EndToEnd/azurite-queue.js); 0
    /// keeps Azurite's 60 s. Set once, from <c>--queue-gc-seconds</c>, before the first start.
    /// </summary>
    public static int QueueGcSeconds { get; set; }

    public static async Task<Azurite> StartAsync(string repoRoot)
    {
        var bin = Path.Combine(repoRoot, "node_modules", ".bin");
        if (!File.Exists(Path.Combine(bin, "azurite-table")))
        {
            throw new InvalidOperationException($"Azurite is not installed under {repoRoot}; run `npm ci` there (bench/run.sh does).");
        }
        var work = Directory.CreateTempSubdirectory("bench-azurite-").FullName;
        var free = Child.FreePorts(3);
        var ports = new Dictionary<StorageService, int>
        {
            [StorageService.Blob] = free[0],
            [StorageService.Queue] = free[1],
            [StorageService.Table] = free[2],
        };
        Child Start(StorageService service)
        {
            var name = service.ToString().ToLowerInvariant();
            var arguments = $"--{name}Host 127.0.0.1 --{name}Port {ports[service]} --inMemoryPersistence --silent --disableTelemetry";
            return service == StorageService.Queue && QueueGcSeconds > 0
                ? new Child("node", $"\"{Path.Combine(repoRoot, "bench", "EndToEnd", "azurite-queue.js")}\" {arguments}", work,
                    new Dictionary<string, string> { ["BENCH_QUEUE_GC_SECONDS"] = QueueGcSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) })
                : new Child(Path.Combine(bin, "azurite-" + name), arguments, work);
        }
        var blob = Start(StorageService.Blob);
        var table = Start(StorageService.Table);
        var queue = Start(StorageService.Queue);
        await Task.WhenAll(
            Child.WaitForPortAsync(blob, ports[StorageService.Blob], "azurite-blob"),
            Child.WaitForPortAsync(table, ports[StorageService.Table], "azurite-table"),
            Child.WaitForPortAsync(queue, ports[StorageService.Queue], "azurite-queue"));
        return new Azurite(blob, table, queue, ports, work);
    }

    public void Dispose()
    {
        Blob.Dispose();
        Table.Dispose();
        Queue.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>CPU time and memory of a process from /proc.</summary>
public static class ProcStat
{
    private static readonly double s_ticksPerSecond = 100; // USER_HZ on Linux

    /// <summary>utime + stime of the process and its waited-for children, in seconds.</summary>
    public static double CpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // After the command: field 3 is state (index 0); utime is field 14 (index 11), stime 15 (index 12).
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / s_ticksPerSecond;
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }

    /// <summary>A /proc/pid/status line in kB (VmRSS: current working set; VmHWM: its peak since start).</summary>
    public static long StatusKb(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                {
                    return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }
        return -1;
    }
}

public sealed record CreatedOrder(string OrderId, string ConnectionId);

/// <summary>
/// The 3PL's webhook receiver: Kestrel on 127.0.0.1. Each connection's URL is <c>/hook/{connectionId}</c>; every
/// request is verified with the independent Standard Webhooks verifier against that connection's secret; the first
/// verified arrival of each order event is recorded by type and order id, and of each <c>order.created</c> also under
/// the order's external id.
/// </summary>
public sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, byte> _eventIds = new(StringComparer.Ordinal);
    private long _requests;
    private long _rejected;
    private long _duplicates;
    private long _otherEvents;

    private Receiver(WebApplication app) => _app = app;

    public ConcurrentDictionary<string, string> Secrets { get; } = new(StringComparer.Ordinal);

    /// <summary>externalId → Stopwatch timestamp of the verified order.created arrival.</summary>
    public ConcurrentDictionary<string, long> Arrivals { get; } = new(StringComparer.Ordinal);

    /// <summary>externalId → the order and the connection whose URL its verified order.created reached.</summary>
    public ConcurrentDictionary<string, CreatedOrder> Created { get; } = new(StringComparer.Ordinal);

    /// <summary><see cref="OrderEventKey"/> (type and order id) → Stopwatch timestamp of the first verified arrival of each order event.</summary>
    public ConcurrentDictionary<string, long> OrderEvents { get; } = new(StringComparer.Ordinal);

    public long Requests => Interlocked.Read(ref _requests);

    public long Rejected => Interlocked.Read(ref _rejected);

    public long Duplicates => Interlocked.Read(ref _duplicates);

    public long OtherEvents => Interlocked.Read(ref _otherEvents);

    public Uri BaseUrl { get; private set; } = null!;

    public static async Task<Receiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new Receiver(app);
        app.MapPost("/hook/{key}", receiver.HandleAsync);
        await app.StartAsync();
        receiver.BaseUrl = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return receiver;
    }

    private async Task HandleAsync(HttpContext context, string key)
    {
        Interlocked.Increment(ref _requests);
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var at = Stopwatch.GetTimestamp();
        var headers = context.Request.Headers;
        string id = headers["webhook-id"].ToString(), timestamp = headers["webhook-timestamp"].ToString(), signature = headers["webhook-signature"].ToString();
        if (!Secrets.TryGetValue(key, out var secret) || !StandardWebhooksVerifier.Verify(secret, id, timestamp, body, signature, DateTimeOffset.UtcNow))
        {
            Interlocked.Increment(ref _rejected);
            Console.WriteLine($"  receiver: signature verification failed for {key} {id}");
            context.Response.StatusCode = 401;
            return;
        }
        context.Response.StatusCode = 200;
        if (key == "ceiling")
        {
            Interlocked.Decrement(ref _requests);
            return;
        }
        // Once per endpoint: the same webhook-id arriving again at the same URL is a duplicate, of any event type.
        if (!_eventIds.TryAdd($"{key} {id}", 0))
        {
            Interlocked.Increment(ref _duplicates);
            return;
        }
        using var json = JsonDocument.Parse(body);
        var type = json.RootElement.GetProperty("type").GetString()!;
        var data = json.RootElement.GetProperty("data");
        if (type.StartsWith("order.", StringComparison.Ordinal))
        {
            OrderEvents.TryAdd(OrderEventKey(type, data.GetProperty("id").GetString()!), at);
        }
        if (type != "order.created")
        {
            Interlocked.Increment(ref _otherEvents);
            return;
        }
        var externalId = data.GetProperty("externalId").GetString()!;
        Created.TryAdd(externalId, new CreatedOrder(data.GetProperty("id").GetString()!, key));
        Arrivals.TryAdd(externalId, at);
    }

    public static string OrderEventKey(string type, string orderId) => type + " " + orderId;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
