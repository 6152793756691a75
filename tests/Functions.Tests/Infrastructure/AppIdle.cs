using Azure.Data.Tables;
using Azure.Data.Tables.Models;
using Azure.Storage.Queues;

namespace ThreePL.Functions.Tests.Infrastructure;

/// <summary>
/// Whether the app with a storage prefix has background work left, judged from storage alone: a message in
/// one of its queues (delayed and in-flight ones count: the queue's count includes them until the handler
/// deletes the message after its work), a visible message for its Durable task hub, or an outbox row not yet
/// relayed. Tests wait for this condition instead of for a length of time.
/// </summary>
public static class AppIdle
{
    /// <summary>The prefix's own tables: every table whose name starts with it (prefixes have one length, so none is another's prefix).</summary>
    public static async Task<List<string>> TablesAsync(TableServiceClient tables, string prefix)
    {
        var names = new List<string>();
        await foreach (var table in tables.QueryAsync(TableServiceClient.CreateQueryFilter($"TableName ge {prefix} and TableName lt {prefix + "~"}")))
        {
            names.Add(table.Name);
        }
        return names;
    }

    public static async Task<bool> IsIdleAsync(AzuriteFixture azurite, string prefix)
    {
        await foreach (var queue in azurite.Queues.GetQueuesAsync(prefix: prefix))
        {
            if (!queue.Name.EndsWith("-poison", StringComparison.Ordinal) && await CountAsync(azurite.Queues.GetQueueClient(queue.Name)) > 0)
            {
                return false;
            }
        }
        // A Durable timer waits in a control queue as an invisible message for as long as the timer runs (days for an
        // invitation's expiry), so only a visible message there means work; the work-item queue holds no timers.
        var hub = TestApp.HubName(prefix);
        await foreach (var queue in azurite.Queues.GetQueuesAsync(prefix: hub))
        {
            var client = azurite.Queues.GetQueueClient(queue.Name);
            var busy = queue.Name.EndsWith("-workitems", StringComparison.Ordinal)
                ? await CountAsync(client) > 0
                : (await client.PeekMessagesAsync(1)).Value.Length > 0;
            if (busy)
            {
                return false;
            }
        }
        foreach (var table in await TablesAsync(azurite.Tables, prefix))
        {
            await foreach (var _ in azurite.Tables.GetTableClient(table).QueryAsync<TableEntity>(
                TableClient.CreateQueryFilter($"RowKey ge {"outbox|"} and RowKey lt {"outbox}"}"), maxPerPage: 1, select: ["RowKey"]))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Polls until <see cref="IsIdleAsync"/> holds.</summary>
    public static Task WaitAsync(AzuriteFixture azurite, string prefix, TimeSpan? timeout = null) =>
        Eventually.True(() => IsIdleAsync(azurite, prefix), $"the app with prefix {prefix} to have no queued work and no unrelayed outbox rows", timeout);

    private static async Task<int> CountAsync(QueueClient queue) =>
        (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount;
}
