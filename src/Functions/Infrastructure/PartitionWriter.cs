using Azure.Data.Tables;

namespace ThreePL.Functions.Infrastructure;

/// <summary>
/// Group commit of upserts to one partition. Concurrent invocations on an instance (a queue function runs many at
/// once) that upsert rows into the same partition of the same table share one entity-group transaction instead of
/// sending one each: a partition's rows go out at once when nothing is in flight for it, and whatever arrives while a
/// transaction is in flight goes out together in the next one. So a quiet instance writes exactly as before, with no
/// added wait, and a busy one writes fewer, larger transactions: the amortisation a batch of queue messages allows.
/// </summary>
/// <remarks>
/// Each caller awaits the transaction that carries its rows, so it returns only once they are stored, as with its
/// own write; a failed transaction fails every caller in it, and each handles that as it would its own failure (its
/// message comes back). Only for upserts whose outcome does not depend on the other rows: no ETags, and a row whose
/// key is already in the next transaction waits for the one after, so the same key is never written twice in one.
/// A caller that gives up (cancellation) may still see its rows written afterwards, which an upsert tolerates.
/// </remarks>
public sealed class PartitionWriter
{
    /// <summary>Azure's limits are 100 operations and 4 MiB per transaction; the size is kept well below.</summary>
    private const int MaxRows = 100;
    private const long MaxChars = 1_000_000;

    private readonly Dictionary<(string Table, string Partition), Lane> _lanes = new();

    /// <summary>Upserts (replace) <paramref name="rows"/>, which must share one partition and have distinct RowKeys.</summary>
    public Task UpsertAsync(TableClient table, IReadOnlyList<TableEntity> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return Task.CompletedTask;
        }
        if (rows.Count > MaxRows || rows.Any(r => r.PartitionKey != rows[0].PartitionKey) || rows.Select(r => r.RowKey).Distinct(StringComparer.Ordinal).Count() != rows.Count)
        {
            throw new ArgumentException("One partition, at most 100 rows, distinct RowKeys.", nameof(rows));
        }
        var write = new PendingWrite(rows, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var key = (table.Name, rows[0].PartitionKey);
        bool start;
        lock (_lanes)
        {
            if (!_lanes.TryGetValue(key, out var lane))
            {
                lane = new Lane();
                _lanes[key] = lane;
            }
            lane.Pending.Add(write);
            start = !lane.Flushing;
            lane.Flushing = true;
        }
        if (start)
        {
            _ = Task.Run(() => FlushAsync(table, key));
        }
        return write.Done.Task.WaitAsync(cancellationToken);
    }

    private async Task FlushAsync(TableClient table, (string Table, string Partition) key)
    {
        while (true)
        {
            List<PendingWrite> batch;
            lock (_lanes)
            {
                var lane = _lanes[key];
                if (lane.Pending.Count == 0)
                {
                    _lanes.Remove(key);
                    return;
                }
                batch = Take(lane.Pending);
            }
            try
            {
                var actions = batch.SelectMany(w => w.Rows).Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r));
                await table.CommitAsync(actions, CancellationToken.None).ConfigureAwait(false);
                batch.ForEach(w => w.Done.TrySetResult());
            }
            catch (Exception ex)
            {
                batch.ForEach(w => w.Done.TrySetException(ex));
            }
        }
    }

    /// <summary>Takes, in arrival order, the writes that fit one transaction; the rest wait in <paramref name="pending"/>.</summary>
    private static List<PendingWrite> Take(List<PendingWrite> pending)
    {
        var batch = new List<PendingWrite>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var rows = 0;
        long chars = 0;
        foreach (var write in pending)
        {
            var size = write.Rows.Sum(Chars);
            if (batch.Count > 0 && (rows + write.Rows.Count > MaxRows || chars + size > MaxChars))
            {
                break;
            }
            if (write.Rows.Any(r => keys.Contains(r.RowKey)))
            {
                continue;
            }
            batch.Add(write);
            keys.UnionWith(write.Rows.Select(r => r.RowKey));
            rows += write.Rows.Count;
            chars += size;
        }
        pending.RemoveAll(batch.Contains);
        return batch;
    }

    private static long Chars(TableEntity row) => row.Sum(p => p.Key.Length + (p.Value is string s ? s.Length : 16));

    private sealed class Lane
    {
        public List<PendingWrite> Pending { get; } = [];

        public bool Flushing { get; set; }
    }

    private sealed record PendingWrite(IReadOnlyList<TableEntity> Rows, TaskCompletionSource Done);
}
