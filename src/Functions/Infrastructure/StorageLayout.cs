using Azure.Data.Tables;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace ThreePL.Functions.Infrastructure;

/// <summary>
/// Creates every table and queue the app uses. Start waits for it (briefly) so the first requests find
/// them; if storage is down the app still starts, keeps trying in the background and reports not ready on
/// <c>/readyz</c> until it succeeds.
/// </summary>
public sealed class StorageLayout(
    TableServiceClient tables,
    QueueServiceClient queues,
    StorageNames names,
    StorageInventory inventory,
    ILogger<StorageLayout> logger) : IHostedService
{
    /// <summary>A queue that no function reads: readiness asks its length as the cheapest queue call.</summary>
    public const string ReadinessQueue = "readiness";

    private static readonly TimeSpan StartBudget = TimeSpan.FromSeconds(10);
    private readonly CancellationTokenSource _stopping = new();
    private volatile bool _ready;

    public bool IsReady => _ready;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        budget.CancelAfter(StartBudget);
        if (await TryEnsureAsync(budget.Token).ConfigureAwait(false))
        {
            return;
        }
        _ = Task.Run(() => RetryUntilReadyAsync(_stopping.Token), CancellationToken.None);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return Task.CompletedTask;
    }

    private async Task RetryUntilReadyAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested && !await TryEnsureAsync(stoppingToken).ConfigureAwait(false))
        {
            await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }
    }

    private async Task<bool> TryEnsureAsync(CancellationToken cancellationToken)
    {
        try
        {
            foreach (var table in inventory.Tables)
            {
                await tables.GetTableClient(names.Table(table)).CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            var queueNames = inventory.TriggeredQueues.Append(ReadinessQueue).Distinct(StringComparer.Ordinal);
            foreach (var queue in queueNames)
            {
                await queues.GetQueueClient(names.Queue(queue)).CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                await queues.GetQueueClient(StorageNames.Poison(names.Queue(queue))).CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            _ready = true;
            logger.LogInformation("Storage ready (prefix '{Prefix}')", names.Prefix);
            return true;
        }
        catch (Exception ex) when (ex is Azure.RequestFailedException or HttpRequestException or OperationCanceledException or AggregateException)
        {
            logger.LogWarning(ex, "Storage is not reachable yet; tables and queues will be created when it is");
            return false;
        }
    }
}

/// <summary>
/// The base names of every table the app keeps and every queue a function reads, named by the app's composition
/// (<see cref="AppSetup"/>), which knows the features; the layout creates them, and the queues' poison queues.
/// </summary>
public sealed record StorageInventory(IReadOnlyList<string> Tables, IReadOnlyList<string> TriggeredQueues);
