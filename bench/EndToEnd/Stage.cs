using System.Security.Cryptography;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Bench.EndToEnd;

/// <summary>
/// The app as its own process on a fresh Azurite of its own, seeded with the 20 connections and warmed up, with its
/// monitor; with <c>counted</c>, its storage connection points at a <see cref="CountingStorageProxy"/> in front of
/// that Azurite.
/// </summary>
public sealed class Stage : IAsyncDisposable
{
    private Stage(Azurite azurite, CountingStorageProxy? proxy, Child app, Load load, Tenancy tenancy, Monitor monitor, string logPath)
    {
        Azurite = azurite;
        Proxy = proxy;
        App = app;
        Load = load;
        Tenancy = tenancy;
        Monitor = monitor;
        LogPath = logPath;
    }

    public Azurite Azurite { get; }

    public CountingStorageProxy? Proxy { get; }

    public Child App { get; }

    public Load Load { get; }

    public Tenancy Tenancy { get; }

    public Monitor Monitor { get; }

    public string LogPath { get; }

    public static async Task<Stage> StartAsync(string repo, string appDll, Receiver receiver, int maxBacklog, int warmUpOrders, bool counted)
    {
        var azurite = await Azurite.StartAsync(repo);
        var prefix = "e2e" + RandomNumberGenerator.GetHexString(8, lowercase: true);
        var hub = "hub" + prefix;
        var proxy = counted
            ? CountingStorageProxy.Start(new StorageOperationClassifier(prefix, hub), Azurite.AccountName, Azurite.AccountKey, azurite.Ports)
            : null;
        var port = Child.FreePort();
        var app = Program.StartApp(appDll, proxy?.ConnectionString ?? azurite.ConnectionString, port, prefix, hub);
        var baseUrl = new Uri($"http://127.0.0.1:{port}");
        await Program.WaitHealthyAsync(baseUrl, app, TimeSpan.FromSeconds(60));
        var load = new Load(baseUrl, Program.AdminKey, receiver);
        var tenancy = await load.SeedAsync(threePls: 5, merchantsEach: 4);
        var monitor = new Monitor(app.Pid, azurite, prefix) { Alive = () => !app.Process.HasExited };
        await Task.Delay(3000);
        await monitor.QuiesceAsync(TimeSpan.FromSeconds(30));
        Console.WriteLine($"warm-up {warmUpOrders} orders ...");
        await load.ClosedLoopAsync("warm", tenancy, warmUpOrders, 20, maxBacklog, monitor);
        await monitor.QuiesceAsync(TimeSpan.FromSeconds(60));
        return new Stage(azurite, proxy, app, load, tenancy, monitor, Path.Combine(AppContext.BaseDirectory, "logs", $"app-{prefix}.log"));
    }

    /// <summary>The app's peak working set over its life (VmHWM), in kB.</summary>
    public long PeakRssKb => ProcStat.StatusKb(App.Pid, "VmHWM");

    /// <summary>Why the app is gone, if it is: the end of its stderr.</summary>
    public string? ExitNote => App.Process.HasExited
        ? $"**The app process exited (code {App.Process.ExitCode}); log: {LogPath}. stderr tail:**\n```\n{(App.Stderr.Length > 3000 ? App.Stderr[^3000..] : App.Stderr)}\n```"
        : null;

    public async ValueTask DisposeAsync()
    {
        App.Dispose();
        if (Proxy is not null)
        {
            await Proxy.DisposeAsync();
        }
        Azurite.Dispose();
    }
}
