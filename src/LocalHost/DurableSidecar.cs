using System.Net;
using DurableTask.AzureStorage;
using DurableTask.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Microsoft.Extensions.Options;

namespace ThreePL.LocalHost;

/// <summary>
/// The development host's Durable backend: the Durable Task Framework's Azure Storage provider (the Durable
/// Functions default) behind the Durable Task gRPC sidecar service, on its own loopback HTTP/2 port. The real
/// <c>DurableTaskWorker</c> and <c>DurableTaskClient</c> of the Durable Task SDK connect to it, as the isolated
/// worker connects to the Functions host's Durable extension in Azure (option A of the platform notes).
/// </summary>
public sealed class DurableSidecar : IHostedService, IAsyncDisposable
{
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(3);

    private readonly DurableHostOptions _options;
    private readonly StorageAccountClientProvider _storage;
    private readonly ILoggerFactory _loggers;
    private readonly bool _dispatch;
    private readonly int _port;
    private WebApplication? _server;

    /// <param name="dispatch">False for an HTTP-only instance: it serves the client (start, raise, query) but runs nothing.</param>
    public DurableSidecar(DurableHostOptions options, StorageAccountClientProvider storage, ILoggerFactory loggers, bool dispatch)
    {
        _options = options;
        _storage = storage;
        _loggers = loggers;
        _dispatch = dispatch;
        _port = FreePort();
        Channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_port}");
    }

    public GrpcChannel Channel { get; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var service = new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = _options.HubName,
            StorageAccountClientProvider = _storage,
            PartitionCount = _options.PartitionCount,
            MaxQueuePollingInterval = _options.MaxQueuePollingInterval,
            WorkerId = _options.WorkerId,
            LoggerFactory = _loggers,
        });
        await service.CreateIfNotExistsAsync().ConfigureAwait(false);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(_loggers);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, _port, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<IOrchestrationService>(service);
        builder.Services.AddSingleton<IOrchestrationServiceClient>(service);
        builder.Services.AddSingleton(Options.Create(new TaskHubGrpcServerOptions
        {
            Mode = _dispatch ? TaskHubGrpcServerMode.ApiServerAndDispatcher : TaskHubGrpcServerMode.ApiServerOnly,
        }));
        builder.Services.AddSingleton<TaskHubGrpcServer>();
        _server = builder.Build();
        _server.MapGrpcService<TaskHubGrpcServer>();
        await _server.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
        {
            await _server.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
