using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Webhooks;

namespace ThreePL.Bench;

/// <summary>
/// Deliveries per second of the webhook sender (SSRF check, Standard Webhooks signing, POST, first KB of the
/// answer) to a Kestrel receiver on loopback, against that receiver's own ceiling measured in the same run
/// with a bare HttpClient sending the same body. Runs alternate so drift hits both sides alike; medians.
/// Usage: dotnet run -c Release --project bench/WebhookThroughput [-- --count 4000 --concurrency 32 --runs 7]
/// </summary>
public static class BenchProgram
{
    public static async Task<int> Main(string[] args)
    {
        var count = Arg(args, "--count", 4000);
        var concurrency = Arg(args, "--concurrency", 32);
        var runs = Arg(args, "--runs", 7);

        await using var receiver = await StartReceiverAsync();
        var url = new Uri(receiver.Url, "/hook");
        var body = JsonSerializer.Serialize(new
        {
            id = "evt_bench",
            type = "order.updated",
            createdAt = DateTimeOffset.UtcNow,
            data = new { id = "ord_bench", status = "in_progress", version = 7, lines = Enumerable.Range(1, 5).Select(i => new { sku = $"SKU-{i}", quantity = i }) },
        });

        var host = Host.CreateApplicationBuilder();
        host.Logging.ClearProviders();
        var services = host.Services;
        services.AddSingleton(new WebhookUrlPolicy(allowInsecureLoopback: true));
        services.AddSingleton(new WebhookOptions());
        services.AddSingleton(TimeProvider.System);
        WebhookSender.Configure(services);
        services.AddSingleton<WebhookSender>();
        using var built = host.Build();
        var sender = built.Services.GetRequiredService<WebhookSender>();
        var secrets = new[] { WebhookSecret.Create() };

        using var bare = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false });

        Func<int, Task<bool>> viaSender = async i =>
            (await sender.SendAsync(url, "evt_bench_" + i.ToString(CultureInfo.InvariantCulture), body, secrets, CancellationToken.None)).Succeeded;
        Func<int, Task<bool>> viaBareClient = async i =>
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await bare.PostAsync(url, content);
            await response.Content.ReadAsByteArrayAsync();
            return response.IsSuccessStatusCode;
        };

        Console.WriteLine($"warm-up; then {runs} runs of {count} deliveries, {concurrency} concurrent, to {url} ({body.Length} bytes)");
        await MeasureAsync(viaBareClient, count / 4, concurrency);
        await MeasureAsync(viaSender, count / 4, concurrency);
        var ceiling = new List<double>();
        var engine = new List<double>();
        for (var run = 1; run <= runs; run++)
        {
            ceiling.Add(await MeasureAsync(viaBareClient, count, concurrency));
            engine.Add(await MeasureAsync(viaSender, count, concurrency));
            Console.WriteLine($"run {run}: receiver ceiling {ceiling[^1],9:N0}/s   webhook sender {engine[^1],9:N0}/s");
        }
        var c = Median(ceiling);
        var e = Median(engine);
        Console.WriteLine($"median: receiver ceiling {c:N0}/s, webhook sender {e:N0}/s, ratio {e / c:P0}");
        return 0;
    }

    private static async Task<double> MeasureAsync(Func<int, Task<bool>> send, int count, int concurrency)
    {
        var next = -1;
        var failures = 0;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                if (!await send(i))
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }));
        watch.Stop();
        if (failures > 0)
        {
            throw new InvalidOperationException($"{failures} of {count} sends failed.");
        }
        return count / watch.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private sealed class Receiver(WebApplication app) : IAsyncDisposable
    {
        public Uri Url { get; } = new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

        public async ValueTask DisposeAsync() => await app.DisposeAsync();
    }

    private static async Task<Receiver> StartReceiverAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(async context =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            context.Response.StatusCode = 200;
            await context.Response.WriteAsync("ok");
        });
        await app.StartAsync();
        return new Receiver(app);
    }
}
