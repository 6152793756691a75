using Azure.Data.Tables;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using ThreePL.Functions.Accounts;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Email;
using ThreePL.Functions.Messaging;
using ThreePL.Functions.Webhooks;

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
    ILogger<StorageLayout> logger) : IHostedService
{
    /// <summary>A queue that no function reads: readiness asks its length as the cheapest queue call.</summary>
    public const string ReadinessQueue = "readiness";

    public static readonly string[] Tables = [AccountStore.TableName, ConnectionStore.TableName, SentEmailLog.TableName, WebhookTable.TableName, Orders.OrderStore.TableName,
        Inventory.InventoryStore.TableName, Billing.UsageStore.TableName, SupportTickets.SupportTicketStore.TableName, Events.EventFeed.TableName];

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
            foreach (var table in Tables)
            {
                await tables.GetTableClient(names.Table(table)).CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            var queueNames = QueueBinding.TriggeredQueues.Append(ReadinessQueue).Distinct(StringComparer.Ordinal);
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
