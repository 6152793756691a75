using System.Net;
using DurableTask.AzureStorage;
using DurableTask.Core;
using DurableTask.Core.Query;
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
/// <remarks>
/// Like the app's storage layout, it does not keep the app from starting while storage is unreachable: it waits a
/// little, then keeps trying in the background; the worker and client reconnect once it serves.
/// </remarks>
public sealed class DurableSidecar : IHostedService, IAsyncDisposable
{
    private static readonly TimeSpan StartBudget = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(3);

    private readonly DurableHostOptions _options;
    private readonly StorageAccountClientProvider _storage;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly bool _dispatch;
    private readonly int _port;
    private readonly CancellationTokenSource _stopping = new();
    private Task _starting = Task.CompletedTask;
    private WebApplication? _server;

    /// <param name="dispatch">False for an HTTP-only instance: it serves the client (start, raise, query) but runs nothing.</param>
    public DurableSidecar(DurableHostOptions options, StorageAccountClientProvider storage, ILoggerFactory loggers, bool dispatch)
    {
        _options = options;
        _storage = storage;
        _loggers = loggers;
        _logger = loggers.CreateLogger<DurableSidecar>();
        _dispatch = dispatch;
        _port = FreePort();
        Channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_port}");
    }

    public GrpcChannel Channel { get; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _starting = Task.Run(() => ServeAsync(_stopping.Token), CancellationToken.None);
        await Task.WhenAny(_starting, Task.Delay(StartBudget, cancellationToken)).ConfigureAwait(false);
    }

    /// <remarks>
    /// Safe in any order and any number of times: the test host has been seen to dispose the container (and so this
    /// service) before it stops its hosted services. The token source is never disposed for that reason; it owns no
    /// timer or linked registration, so there is nothing to release.
    /// </remarks>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _starting.ConfigureAwait(false);
        if (Interlocked.Exchange(ref _server, null) is { } server)
        {
            await server.StopAsync(cancellationToken).ConfigureAwait(false);
            await server.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        Channel.Dispose();
    }

    private async Task ServeAsync(CancellationToken stoppingToken)
    {
        var service = new GuardedOrchestrationService(new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = _options.HubName,
            StorageAccountClientProvider = _storage,
            PartitionCount = _options.PartitionCount,
            MaxQueuePollingInterval = _options.MaxQueuePollingInterval,
            WorkerId = _options.WorkerId,
            LoggerFactory = _loggers,
        }));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await service.CreateIfNotExistsAsync().WaitAsync(stoppingToken).ConfigureAwait(false);
                break;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _logger.LogWarning(ex, "Task hub {HubName} is not reachable yet; retrying in {Delay}", _options.HubName, RetryDelay);
                await Task.Delay(RetryDelay, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
        if (stoppingToken.IsCancellationRequested)
        {
            return;
        }
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
        var server = builder.Build();
        server.MapGrpcService<TaskHubGrpcServer>();
        await server.StartAsync(CancellationToken.None).ConfigureAwait(false);
        _server = server;
        _logger.LogInformation("Task hub {HubName} served to the Durable worker as {WorkerId}", _options.HubName, _options.WorkerId);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// The sidecar starts the service once a worker connects and stops it when its host stops, each from an
    /// <c>async void</c> callback; a host stopped before a worker connected would stop a service that never started,
    /// which throws there and takes the process down. This keeps the pair ordered (a stop waits for a start in
    /// progress, a start after a stop does nothing) and passes everything else through.
    /// </summary>
    private sealed class GuardedOrchestrationService(AzureStorageOrchestrationService inner)
        : IOrchestrationService, IOrchestrationServiceClient, IOrchestrationServiceQueryClient, IOrchestrationServicePurgeClient
    {
        private readonly Lock _gate = new();
        private Task? _started;
        private bool _stopped;

        private IOrchestrationServicePurgeClient Purge => inner;

        public int TaskOrchestrationDispatcherCount => inner.TaskOrchestrationDispatcherCount;
        public int MaxConcurrentTaskOrchestrationWorkItems => inner.MaxConcurrentTaskOrchestrationWorkItems;
        public BehaviorOnContinueAsNew EventBehaviourForContinueAsNew => inner.EventBehaviourForContinueAsNew;
        public int TaskActivityDispatcherCount => inner.TaskActivityDispatcherCount;
        public int MaxConcurrentTaskActivityWorkItems => inner.MaxConcurrentTaskActivityWorkItems;

        public Task StartAsync()
        {
            lock (_gate)
            {
                return _stopped ? Task.CompletedTask : _started ??= inner.StartAsync();
            }
        }

        public Task StopAsync() => StopAsync(isForced: false);

        public async Task StopAsync(bool isForced)
        {
            Task? started;
            lock (_gate)
            {
                _stopped = true;
                started = _started;
            }
            if (started is not null)
            {
                await started.ConfigureAwait(false);
                await inner.StopAsync(isForced).ConfigureAwait(false);
            }
        }

        public Task CreateAsync() => inner.CreateAsync();
        public Task CreateAsync(bool recreateInstanceStore) => inner.CreateAsync(recreateInstanceStore);
        public Task CreateIfNotExistsAsync() => inner.CreateIfNotExistsAsync();
        public Task DeleteAsync() => inner.DeleteAsync();
        public Task DeleteAsync(bool deleteInstanceStore) => inner.DeleteAsync(deleteInstanceStore);
        public bool IsMaxMessageCountExceeded(int currentMessageCount, OrchestrationRuntimeState runtimeState) => inner.IsMaxMessageCountExceeded(currentMessageCount, runtimeState);
        public int GetDelayInSecondsAfterOnProcessException(Exception exception) => inner.GetDelayInSecondsAfterOnProcessException(exception);
        public int GetDelayInSecondsAfterOnFetchException(Exception exception) => inner.GetDelayInSecondsAfterOnFetchException(exception);
        public Task<TaskOrchestrationWorkItem> LockNextTaskOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken) => inner.LockNextTaskOrchestrationWorkItemAsync(receiveTimeout, cancellationToken);
        public Task RenewTaskOrchestrationWorkItemLockAsync(TaskOrchestrationWorkItem workItem) => inner.RenewTaskOrchestrationWorkItemLockAsync(workItem);
        public Task CompleteTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem, OrchestrationRuntimeState newOrchestrationRuntimeState, IList<TaskMessage> outboundMessages, IList<TaskMessage> orchestratorMessages, IList<TaskMessage> timerMessages, TaskMessage continuedAsNewMessage, OrchestrationState orchestrationState) =>
            inner.CompleteTaskOrchestrationWorkItemAsync(workItem, newOrchestrationRuntimeState, outboundMessages, orchestratorMessages, timerMessages, continuedAsNewMessage, orchestrationState);
        public Task AbandonTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => inner.AbandonTaskOrchestrationWorkItemAsync(workItem);
        public Task ReleaseTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => inner.ReleaseTaskOrchestrationWorkItemAsync(workItem);
        public Task<TaskActivityWorkItem> LockNextTaskActivityWorkItem(TimeSpan receiveTimeout, CancellationToken cancellationToken) => inner.LockNextTaskActivityWorkItem(receiveTimeout, cancellationToken);
        public Task<TaskActivityWorkItem> RenewTaskActivityWorkItemLockAsync(TaskActivityWorkItem workItem) => inner.RenewTaskActivityWorkItemLockAsync(workItem);
        public Task CompleteTaskActivityWorkItemAsync(TaskActivityWorkItem workItem, TaskMessage responseMessage) => inner.CompleteTaskActivityWorkItemAsync(workItem, responseMessage);
        public Task AbandonTaskActivityWorkItemAsync(TaskActivityWorkItem workItem) => inner.AbandonTaskActivityWorkItemAsync(workItem);

        public Task CreateTaskOrchestrationAsync(TaskMessage creationMessage) => inner.CreateTaskOrchestrationAsync(creationMessage);
        public Task CreateTaskOrchestrationAsync(TaskMessage creationMessage, OrchestrationStatus[] dedupeStatuses) => inner.CreateTaskOrchestrationAsync(creationMessage, dedupeStatuses);
        public Task SendTaskOrchestrationMessageAsync(TaskMessage message) => inner.SendTaskOrchestrationMessageAsync(message);
        public Task SendTaskOrchestrationMessageBatchAsync(params TaskMessage[] messages) => inner.SendTaskOrchestrationMessageBatchAsync(messages);
        public Task<OrchestrationState> WaitForOrchestrationAsync(string instanceId, string executionId, TimeSpan timeout, CancellationToken cancellationToken) => inner.WaitForOrchestrationAsync(instanceId, executionId, timeout, cancellationToken)!;
        public Task ForceTerminateTaskOrchestrationAsync(string instanceId, string reason) => inner.ForceTerminateTaskOrchestrationAsync(instanceId, reason);
        public Task<IList<OrchestrationState>> GetOrchestrationStateAsync(string instanceId, bool allExecutions) => inner.GetOrchestrationStateAsync(instanceId, allExecutions);
        public Task<OrchestrationState> GetOrchestrationStateAsync(string instanceId, string executionId) => inner.GetOrchestrationStateAsync(instanceId, executionId);
        public Task<string> GetOrchestrationHistoryAsync(string instanceId, string executionId) => inner.GetOrchestrationHistoryAsync(instanceId, executionId);
        public Task PurgeOrchestrationHistoryAsync(DateTime thresholdDateTimeUtc, OrchestrationStateTimeRangeFilterType timeRangeFilterType) => inner.PurgeOrchestrationHistoryAsync(thresholdDateTimeUtc, timeRangeFilterType);
        public Task<OrchestrationQueryResult> GetOrchestrationWithQueryAsync(OrchestrationQuery query, CancellationToken cancellationToken) => inner.GetOrchestrationWithQueryAsync(query, cancellationToken);
        public Task<PurgeResult> PurgeInstanceStateAsync(string instanceId) => Purge.PurgeInstanceStateAsync(instanceId);
        public Task<PurgeResult> PurgeInstanceStateAsync(PurgeInstanceFilter purgeInstanceFilter) => Purge.PurgeInstanceStateAsync(purgeInstanceFilter);
    }
}
