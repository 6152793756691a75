using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Bench.EndToEnd;

/// <summary>One measuring window of the replay: storage operations per second and the CPU Azurite got meanwhile.</summary>
public sealed record ReplayWindow(double Seconds, long Operations, double AzuriteCores, double ClientCores, IReadOnlyDictionary<string, double> Issued)
{
    public double OperationsPerSecond => Operations / Seconds;
}

/// <summary>
/// Azurite's ceiling for the app's mix: the per-order operations the counting phase measured (idle polls aside),
/// issued directly with the app's own client factory by many concurrent workers against an Azurite of its own,
/// each worker playing one synthetic order after another. Table operations go to one replay table per table the app
/// used, in the app's proportions, because Azurite's cost of a query grows with the rows of its table. Operations
/// completed inside a window count; ceiling orders/s = operations/s ÷ the app's operations per order.
/// </summary>
public sealed class Replay
{
    private const int Workers = 32;
    private const int HotRows = 64;
    private readonly IReadOnlyList<ReplayTable> _tables;
    private readonly QueueClient _queue;
    private readonly BlobClient _blob;
    private readonly IReadOnlyDictionary<string, double> _mix;
    private readonly int _entitiesPerBatch;
    private readonly int _messagesPerReceive;
    private readonly ConcurrentDictionary<string, long> _issued = new(StringComparer.Ordinal);
    private volatile bool _measuring;
    private int _next;

    private Replay(IReadOnlyList<ReplayTable> tables, QueueClient queue, BlobClient blob, IReadOnlyDictionary<string, double> mix, int entitiesPerBatch)
    {
        _tables = tables;
        _queue = queue;
        _blob = blob;
        _mix = mix;
        _entitiesPerBatch = entitiesPerBatch;
        var receives = mix.GetValueOrDefault(StorageKinds.Receive);
        var handled = mix.GetValueOrDefault(StorageKinds.DeleteMessage) + mix.GetValueOrDefault(StorageKinds.UpdateMessage);
        _messagesPerReceive = receives > 0 ? Math.Clamp((int)Math.Ceiling(handled / receives), 1, 32) : 1;
    }

    /// <summary>Kinds the replay cannot issue as the app did (and leaves out): creating or deleting tables, queues and containers.</summary>
    public static readonly string[] NotReplayed = [StorageKinds.Administration];

    /// <param name="azurite">The replay's own Azurite.</param>
    /// <param name="mix">Operations per order by kind (queue and blob kinds are replayed from it).</param>
    /// <param name="byResource">Operations per order by resource and kind (table kinds are replayed from it, per table).</param>
    /// <param name="entitiesPerBatch">The app's average batch size.</param>
    public static async Task<Replay> CreateAsync(Azurite azurite, IReadOnlyDictionary<string, double> mix,
        IReadOnlyDictionary<(string Resource, string Kind), double> byResource, double entitiesPerBatch)
    {
        var name = "replay" + RandomNumberGenerator.GetHexString(8, lowercase: true);
        var tables = new List<ReplayTable>();
        foreach (var appTable in byResource.Where(r => r.Key.Kind.StartsWith("table ", StringComparison.Ordinal)).GroupBy(r => r.Key.Resource.Split(':')[0]))
        {
            var tableName = name + new string([.. appTable.Key.Where(char.IsAsciiLetterOrDigit)]);
            var client = azurite.Tables().GetTableClient(tableName[..Math.Min(63, tableName.Length)]);
            await client.CreateIfNotExistsAsync();
            for (var j = 0; j < HotRows; j++)
            {
                await client.UpsertEntityAsync(Entity($"h{j}", "row", j));
            }
            var tableMix = appTable.GroupBy(r => r.Key.Kind).ToDictionary(g => g.Key, g => g.Sum(r => r.Value), StringComparer.Ordinal);
            tables.Add(new ReplayTable(client, tableMix));
        }
        var queue = azurite.Queues().GetQueueClient(name);
        var container = new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient(name);
        await queue.CreateIfNotExistsAsync();
        await container.CreateIfNotExistsAsync();
        var blob = container.GetBlobClient("lease");
        await blob.UploadAsync(BinaryData.FromString("{}"), overwrite: true);
        return new Replay(tables, queue, blob, mix, Math.Max(1, (int)Math.Round(entitiesPerBatch)));
    }

    /// <summary>Warms up for <paramref name="warmUp"/>, then counts the operations completed in <paramref name="window"/>.</summary>
    public async Task<ReplayWindow> RunAsync(Azurite azurite, TimeSpan warmUp, TimeSpan window)
    {
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, Workers).Select(_ => Task.Run(() => WorkAsync(stop.Token))).ToList();
        await Task.Delay(warmUp);
        _issued.Clear();
        var cpu = azurite.CpuSeconds;
        var clientCpu = ProcStat.CpuSeconds(Environment.ProcessId);
        var watch = Stopwatch.StartNew();
        _measuring = true;
        await Task.Delay(window);
        _measuring = false;
        var seconds = watch.Elapsed.TotalSeconds;
        var azuriteCpu = azurite.CpuSeconds - cpu;
        var clientCores = (ProcStat.CpuSeconds(Environment.ProcessId) - clientCpu) / seconds;
        var issued = new Dictionary<string, long>(_issued);
        await stop.CancelAsync();
        await Task.WhenAll(workers);
        return new ReplayWindow(seconds, issued.Values.Sum(), azuriteCpu / seconds, clientCores,
            issued.ToDictionary(i => i.Key, i => (double)i.Value, StringComparer.Ordinal));
    }

    private async Task WorkAsync(CancellationToken stop)
    {
        var pool = new List<QueueMessage>();
        while (!stop.IsCancellationRequested)
        {
            await OrderAsync(Interlocked.Increment(ref _next), pool);
        }
        foreach (var message in pool)
        {
            await _queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
        }
    }

    /// <summary>One synthetic order: each kind as often as the app's orders issue it on average (fractions spread over orders).</summary>
    private async Task OrderAsync(int k, List<QueueMessage> pool)
    {
        foreach (var table in _tables)
        {
            await TableOperationsAsync(table, k);
        }
        for (var i = 0; i < Count(_mix, StorageKinds.Send, k); i++)
        {
            await Issue(StorageKinds.Send, () => _queue.SendMessageAsync($"{{\"orderId\":\"o{k}\",\"i\":{i}}}"));
        }
        // Each receive asks for as many messages as the app's receives deliver on average, so a worker's pool holds
        // about what its next orders delete: the queue neither grows nor runs dry.
        for (var i = 0; i < Count(_mix, StorageKinds.Receive, k); i++)
        {
            var messages = await Issue(StorageKinds.Receive, () => _queue.ReceiveMessagesAsync(_messagesPerReceive, TimeSpan.FromSeconds(120)));
            pool.AddRange(messages.Value);
        }
        for (var i = 0; i < Count(_mix, StorageKinds.UpdateMessage, k) && pool.Count > 0; i++)
        {
            var message = pool[^1];
            var receipt = await Issue(StorageKinds.UpdateMessage, () => _queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: TimeSpan.FromSeconds(120)));
            pool[^1] = message.Update(receipt.Value);
        }
        for (var i = 0; i < Count(_mix, StorageKinds.DeleteMessage, k) && pool.Count > 0; i++)
        {
            var message = pool[^1];
            pool.RemoveAt(pool.Count - 1);
            await Issue(StorageKinds.DeleteMessage, () => _queue.DeleteMessageAsync(message.MessageId, message.PopReceipt));
        }
        for (var i = 0; i < Count(_mix, StorageKinds.PeekOrMetadata, k); i++)
        {
            await Issue(StorageKinds.PeekOrMetadata, () => _queue.GetPropertiesAsync());
        }
        // The task hub's blob traffic is lease upkeep: replayed as reads of one blob's properties.
        var blobOperations = Count(_mix, StorageKinds.BlobLease, k) + Count(_mix, StorageKinds.BlobRead, k) + Count(_mix, StorageKinds.BlobWrite, k) + Count(_mix, StorageKinds.BlobDelete, k);
        for (var i = 0; i < blobOperations; i++)
        {
            await Issue(StorageKinds.BlobRead, () => _blob.GetPropertiesAsync());
        }
    }

    /// <summary>The table operations of one synthetic order on one replay table: rows of its own partition, and hot rows for reads and updates.</summary>
    private async Task TableOperationsAsync(ReplayTable table, int k)
    {
        var pk = $"o{k}";
        var hot = $"h{k % HotRows}";
        var written = new List<string>();
        for (var b = 0; b < Count(table.Mix, StorageKinds.Batch, k); b++)
        {
            var rows = Enumerable.Range(0, _entitiesPerBatch).Select(e => $"b{b}|{e}").ToList();
            await Issue(StorageKinds.Batch, () => table.Client.CommitAsync(rows.Select(rk => new TableTransactionAction(TableTransactionActionType.Add, Entity(pk, rk, k)))));
            written.AddRange(rows);
        }
        for (var i = 0; i < Count(table.Mix, StorageKinds.Insert, k); i++)
        {
            await Issue(StorageKinds.Insert, () => table.Client.AddEntityAsync(Entity(pk, $"i|{i}", k)));
            written.Add($"i|{i}");
        }
        for (var i = 0; i < Count(table.Mix, StorageKinds.Upsert, k); i++)
        {
            await Issue(StorageKinds.Upsert, () => table.Client.UpsertEntityAsync(Entity(pk, $"u|{i}", k), TableUpdateMode.Replace));
            written.Add($"u|{i}");
        }
        for (var i = 0; i < Count(table.Mix, StorageKinds.PointRead, k); i++)
        {
            await Issue(StorageKinds.PointRead, () => table.Client.GetEntityIfExistsAsync<TableEntity>(hot, "row"));
        }
        for (var i = 0; i < Count(table.Mix, StorageKinds.Query, k); i++)
        {
            await Issue(StorageKinds.Query, async () =>
            {
                await foreach (var _ in table.Client.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {"b"} and RowKey lt {"c"}")))
                {
                }
            });
        }
        for (var i = 0; i < Count(table.Mix, StorageKinds.Update, k); i++)
        {
            await Issue(StorageKinds.Update, () => table.Client.UpdateEntityAsync(Entity(hot, "row", k), ETag.All, TableUpdateMode.Replace));
        }
        for (var i = 0; i < Count(table.Mix, StorageKinds.Delete, k); i++)
        {
            var rowKey = i < written.Count ? written[i] : "none";
            await Issue(StorageKinds.Delete, () => table.Client.DeleteEntityAsync(pk, rowKey));
        }
    }

    private static int Count(IReadOnlyDictionary<string, double> mix, string kind, int k)
    {
        var rate = mix.GetValueOrDefault(kind);
        return (int)(Math.Floor((k + 1) * rate) - Math.Floor(k * rate));
    }

    private async Task<T> Issue<T>(string kind, Func<Task<T>> operation)
    {
        var result = await operation();
        Tally(kind);
        return result;
    }

    private async Task Issue(string kind, Func<Task> operation)
    {
        await operation();
        Tally(kind);
    }

    private void Tally(string kind)
    {
        if (_measuring)
        {
            _issued.AddOrUpdate(kind, 1, (_, n) => n + 1);
        }
    }

    private sealed record ReplayTable(TableClient Client, IReadOnlyDictionary<string, double> Mix);

    private static TableEntity Entity(string pk, string rk, int k) => new(pk, rk)
    {
        ["Status"] = "awaiting_shipment",
        ["Version"] = 2L,
        ["Payload"] = $"{{\"lines\":[{{\"sku\":\"SKU-{k % 7}\",\"quantity\":2}}],\"shipTo\":{{\"name\":\"Ada\",\"line1\":\"Main St 1\",\"city\":\"Berlin\",\"postalCode\":\"10115\",\"countryCode\":\"DE\"}}}}",
    };
}

/// <summary>One round of the ceiling ratio: an end-to-end window and a replay window next to it in time.</summary>
public sealed record RatioRound(int Number, RunResult EndToEnd, ReplayWindow Replay, double OperationsPerOrder)
{
    public double CeilingOrdersPerSecond => Replay.OperationsPerSecond / OperationsPerOrder;

    /// <summary>End-to-end orders/s ÷ (Azurite ceiling ops/s ÷ ops per order), both from this round.</summary>
    public double Ratio => EndToEnd.SteadyOrdersPerSecond / CeilingOrdersPerSecond;

    public double EndToEndAzuriteCores => EndToEnd.AzuriteCpu / EndToEnd.Seconds;

    /// <summary>
    /// The same comparison per unit of Azurite CPU (replay's Azurite CPU per synthetic order ÷ the end-to-end run's per
    /// order): what the ratio would be if both had got the same CPU. Steadier on a shared machine; not the target.
    /// </summary>
    public double CpuNormalisedRatio => Replay.AzuriteCores / CeilingOrdersPerSecond / (EndToEnd.AzuriteCpu / EndToEnd.Delivered);
}

/// <summary>
/// The ceiling ratio, robust to a machine whose load changes by the minute: short end-to-end and replay windows
/// alternate (end-to-end first in odd rounds, replay first in even ones, so a trend in the load favours neither), each
/// round gives one ratio, and the result is their median with the spread.
/// </summary>
public static class CeilingRatio
{
    public static async Task<IReadOnlyList<RatioRound>> RunAsync(Stage stage, Azurite replayAzurite, Replay replay, int connections, int rounds,
        TimeSpan endToEndWindow, TimeSpan replayWindow, double operationsPerOrder, int maxBacklog)
    {
        var results = new List<RatioRound>();
        for (var round = 1; round <= rounds; round++)
        {
            ReplayWindow? replayed = null;
            if (round % 2 == 0)
            {
                replayed = await replay.RunAsync(replayAzurite, TimeSpan.FromSeconds(2), replayWindow);
            }
            var run = await stage.Load.ClosedLoopAsync($"c{connections}r{round}", stage.Tenancy, int.MaxValue, connections, maxBacklog, stage.Monitor, endToEndWindow);
            await stage.Monitor.QuiesceAsync(TimeSpan.FromSeconds(120));
            replayed ??= await replay.RunAsync(replayAzurite, TimeSpan.FromSeconds(2), replayWindow);
            var result = new RatioRound(round, run, replayed, operationsPerOrder);
            Console.WriteLine($"  round {round} at c={connections}: end to end {run.SteadyOrdersPerSecond:F1} orders/s (Azurite {result.EndToEndAzuriteCores:F2} cores), " +
                              $"replay {replayed.OperationsPerSecond:F0} ops/s = {result.CeilingOrdersPerSecond:F1} orders/s (Azurite {replayed.AzuriteCores:F2} cores, client {replayed.ClientCores:F2}), ratio {result.Ratio:F2}");
            results.Add(result);
        }
        return results;
    }
}
