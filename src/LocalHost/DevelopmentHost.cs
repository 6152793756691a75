using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration.Memory;
using ThreePL.Functions;

namespace ThreePL.LocalHost;

/// <summary>
/// Runs the Functions app's own function classes where the Functions host cannot run (here, on CI, on a
/// newcomer's machine), driven by the <c>functions.metadata</c> the Worker SDK generates: the HTTP functions routed
/// as the Functions host routes them (<see cref="HttpRoutes"/>), a queue pump per queue function, a timer per timer
/// function on its NCRONTAB schedule (<see cref="TimerPump"/>), and the Durable
/// Task worker for orchestrator and activity functions over the Durable Functions default backend (Azure Storage). It adds no behaviour of its own: authentication,
/// problems, limits and logging scopes are in the functions' code, which both hosts run. Never deployed.
/// </summary>
public sealed class DevelopmentHost
{
    public const string ListenersSetting = "ThreePL:Hosting:Listeners";

    private DevelopmentHost()
    {
    }

    public static void Main(string[] args) => Build(args).Run();

    /// <param name="args">Command-line configuration.</param>
    /// <param name="metadata">The functions to run; by default the <c>functions.metadata</c> next to the host.</param>
    public static WebApplication Build(string[] args, IReadOnlyList<FunctionMetadata>? metadata = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        AddFileConfiguration(builder.Configuration, builder.Environment.ContentRootPath);
        builder.WebHost.UseUrls(builder.Configuration["ThreePL:Urls"] ?? AppSetup.DefaultUrl);
        builder.Logging.AddSimpleConsole(o => o.IncludeScopes = true);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Azure.Core", LogLevel.Warning);

        var functions = (metadata ?? FunctionMetadata.LoadDefault()).Select(f => new FunctionInvoker(f)).ToList();
        var unsupported = functions.Where(f => f.Metadata.Trigger.Type is not ("httpTrigger" or "queueTrigger" or "timerTrigger") && !DurableFunctions.IsDurableTrigger(f.Metadata.Trigger.Type))
            .Select(f => $"{f.Metadata.Name} ({f.Metadata.Trigger.Type})").ToList();
        if (unsupported.Count > 0)
        {
            throw new NotSupportedException($"The development host runs HTTP, queue, timer and Durable triggers only; add support before adding: {string.Join(", ", unsupported)}.");
        }
        var timerFunctions = functions.Where(f => f.Metadata.Trigger.Type == "timerTrigger").ToList();
        foreach (var timer in timerFunctions)
        {
            TimerPump.Schedule(timer.Metadata.Trigger, builder.Configuration);
        }
        builder.Services.AddThreePL(builder.Configuration);
        // A stop waits this long for in-flight work; the default 30 s is mostly the Durable worker's open stream.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        // Listeners off gives an HTTP-only instance (and lets tests stop a "crashed" process from working): it still
        // reaches the task hub through the Durable client, but runs no orchestration or activity.
        var listeners = builder.Configuration.GetValue<bool?>(ListenersSetting) != false;
        DurableFunctions.Add(builder.Services, builder.Configuration, functions, runWorkflows: listeners);
        if (listeners)
        {
            var queueFunctions = functions.Where(f => f.Metadata.Trigger.Type == "queueTrigger").ToList();
            builder.Services.AddSingleton(QueueHostOptions.FromConfiguration(builder.Configuration));
            builder.Services.AddHostedService(sp => new QueuePump(
                queueFunctions,
                TriggerQueues(builder.Configuration),
                builder.Configuration,
                sp.GetRequiredService<QueueHostOptions>(),
                sp.GetRequiredService<IServiceScopeFactory>(),
                sp.GetRequiredService<ILogger<QueuePump>>()));
            builder.Services.AddHostedService(sp => new TimerPump(
                timerFunctions,
                builder.Configuration,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<IServiceScopeFactory>(),
                sp.GetRequiredService<ILogger<TimerPump>>()));
        }

        var app = builder.Build();
        app.UseRouter(HttpRoutes.Build(functions, app.Configuration, app.Services.GetRequiredService<IInlineConstraintResolver>()));
        return app;
    }

    /// <summary>
    /// The queue trigger's own client, as the Functions host has its own: from the <c>AzureWebJobsStorage</c>
    /// connection string, base64 like the host, at the newest service version Azurite accepts.
    /// </summary>
    private static QueueServiceClient TriggerQueues(IConfiguration configuration)
    {
        var connectionString = configuration["AzureWebJobsStorage"];
        if (string.IsNullOrEmpty(connectionString))
        {
            throw new InvalidOperationException("The development host needs AzureWebJobsStorage as a connection string (Azurite's, locally).");
        }
        return new QueueServiceClient(connectionString, new QueueClientOptions(QueueClientOptions.ServiceVersion.V2026_06_06)
        {
            MessageEncoding = QueueMessageEncoding.Base64,
        });
    }

    /// <summary>
    /// host.json and local.settings go below every other source: environment variables and the test host's
    /// overrides win, as they do under the Functions host.
    /// </summary>
    private static void AddFileConfiguration(ConfigurationManager configuration, string contentRoot)
    {
        var directories = new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory, contentRoot };
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (HostJson.Find(directories) is { } hostJson)
        {
            foreach (var (key, value) in HostJson.Load(hostJson))
            {
                values[key] = value;
            }
        }
        foreach (var (key, value) in LocalSettings.Load(Directory.GetCurrentDirectory()))
        {
            values[key] = value;
        }
        configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = values });
    }
}
