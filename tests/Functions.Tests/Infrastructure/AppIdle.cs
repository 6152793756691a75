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

    public static async Task<bool> IsIdleAsync(AzuriteFixture azurite, string prefix) => await BusyWithAsync(azurite, prefix) is null;

    /// <summary>What work is left (the first found), or null when none is.</summary>
    public static async Task<string?> BusyWithAsync(AzuriteFixture azurite, string prefix)
    {
        await foreach (var queue in azurite.Queues.GetQueuesAsync(prefix: prefix))
        {
            if (!queue.Name.EndsWith("-poison", StringComparison.Ordinal) && await CountAsync(azurite.Queues.GetQueueClient(queue.Name)) is > 0 and var count)
            {
                return $"{count} messages in {queue.Name}";
            }
        }
        // The Durable task hub keeps invisible messages that are not pending work of ours: a timer waits in a control
        // queue for as long as it runs (days for an invitation's expiry), and a work item whose worker was killed comes
        // back after a backoff of its own choosing. Only a visible message there is work about to run.
        // Durable writes plain JSON, not the base64 of the app's clients, which would throw on decoding a visible message.
        var hub = TestApp.HubName(prefix);
        var plain = new QueueServiceClient(azurite.ConnectionString, new QueueClientOptions(QueueClientOptions.ServiceVersion.V2026_06_06));
        await foreach (var queue in plain.GetQueuesAsync(prefix: hub))
        {
            if ((await plain.GetQueueClient(queue.Name).PeekMessagesAsync(1)).Value.Length > 0)
            {
                return $"a visible message in {queue.Name}";
            }
        }
        foreach (var table in await TablesAsync(azurite.Tables, prefix))
        {
            await foreach (var row in azurite.Tables.GetTableClient(table).QueryAsync<TableEntity>(
                TableClient.CreateQueryFilter($"RowKey ge {"outbox|"} and RowKey lt {"outbox}"}"), maxPerPage: 1, select: ["PartitionKey"]))
            {
                return $"an outbox row in {table}/{row.PartitionKey}";
            }
        }
        return null;
    }

    /// <summary>Polls until <see cref="BusyWithAsync"/> finds nothing; a timeout names what was left.</summary>
    public static async Task WaitAsync(AzuriteFixture azurite, string prefix, TimeSpan? timeout = null)
    {
        string? left = null;
        try
        {
            await Eventually.True(async () => (left = await BusyWithAsync(azurite, prefix)) is null, $"the app with prefix {prefix} to have no queued work and no unrelayed outbox rows", timeout);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} Still: {left}.", ex);
        }
    }

    private static async Task<int> CountAsync(QueueClient queue) =>
        (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount;
}
