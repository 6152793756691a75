using Azure;
using Azure.Data.Tables;

namespace ThreePL.Functions.Infrastructure;

/// <summary>
/// Group commit to one partition. Concurrent invocations on an instance (a queue function runs many at once, and so
/// do HTTP requests) that write rows into the same partition of the same table share one entity-group transaction
/// instead of sending one each: a partition's writes go out at once when nothing is in flight for it, and whatever
/// arrives while a transaction is in flight goes out together in the next one. So a quiet instance writes exactly as
/// before, with no added wait, and a busy one writes fewer, larger transactions: the amortisation a batch of queue
/// messages allows.
/// </summary>
/// <remarks>
/// Each caller awaits the transaction that carries its actions, so it returns only once they are stored, as with its
/// own transaction, and gets its own actions' responses. A caller's actions may be conditional (an insert, an ETag,
/// a delete that needs its row): when a shared transaction fails, nothing in it was written, and each caller's
/// actions are committed again on their own, so each hears its own outcome (and its own failed action's index), as
/// if it had never shared; that costs one transaction more, only when something failed. A row whose key is already
/// in the next transaction waits for the one after, so the same key is never written twice in one, and writes to
/// one key happen in arrival order. A caller that gives up (cancellation) may still see its actions committed
/// afterwards, which every user here tolerates (their writes are idempotent or guarded by a version).
/// </remarks>
public sealed class PartitionWriter
{
    /// <summary>Azure's limits are 100 operations and 4 MiB per transaction; the size is kept well below.</summary>
    private const int MaxRows = 100;
    private const long MaxChars = 1_000_000;

    private readonly Dictionary<(string Table, string Partition), Lane> _lanes = new();

    /// <summary>Upserts (replace) <paramref name="rows"/>, which must share one partition and have distinct RowKeys.</summary>
    public Task UpsertAsync(TableClient table, IReadOnlyList<TableEntity> rows, CancellationToken cancellationToken) =>
        CommitAsync(table, rows.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r)).ToList(), cancellationToken);

    /// <summary>
    /// Commits <paramref name="actions"/> (one partition, at most 100, distinct RowKeys) atomically, possibly in one
    /// transaction with other callers' actions; returns the responses to these actions, in their order.
    /// </summary>
    /// <exception cref="TableTransactionFailedException">One of these actions failed; none of them was written.</exception>
    public async Task<IReadOnlyList<Response>> CommitAsync(TableClient table, IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken)
    {
        if (actions.Count == 0)
        {
            return [];
        }
        var partition = actions[0].Entity.PartitionKey;
        if (actions.Count > MaxRows || actions.Any(a => a.Entity.PartitionKey != partition) || actions.Select(a => a.Entity.RowKey).Distinct(StringComparer.Ordinal).Count() != actions.Count)
        {
            throw new ArgumentException("One partition, at most 100 actions, distinct RowKeys.", nameof(actions));
        }
        var write = new PendingWrite(actions, new TaskCompletionSource<IReadOnlyList<Response>>(TaskCreationOptions.RunContinuationsAsynchronously));
        var key = (table.Name, partition);
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
        return await write.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
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
                var responses = await table.CommitAsync(batch.SelectMany(w => w.Actions), CancellationToken.None).ConfigureAwait(false);
                var offset = 0;
                foreach (var write in batch)
                {
                    write.Done.TrySetResult(responses.Skip(offset).Take(write.Actions.Count).ToList());
                    offset += write.Actions.Count;
                }
            }
            catch (Exception ex) when (batch.Count == 1)
            {
                batch[0].Done.TrySetException(ex);
            }
            catch (Exception)
            {
                // Nothing of the shared transaction was written; each caller's own transaction says whose action failed.
                await Task.WhenAll(batch.Select(write => CommitAloneAsync(table, write))).ConfigureAwait(false);
            }
        }
    }

    private static async Task CommitAloneAsync(TableClient table, PendingWrite write)
    {
        try
        {
            write.Done.TrySetResult(await table.CommitAsync(write.Actions, CancellationToken.None).ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            write.Done.TrySetException(ex);
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
            var size = write.Actions.Sum(a => Chars(a.Entity));
            if (batch.Count > 0 && (rows + write.Actions.Count > MaxRows || chars + size > MaxChars))
            {
                break;
            }
            if (write.Actions.Any(a => keys.Contains(a.Entity.RowKey)))
            {
                // Wait for a later transaction, and so does every later write of any key of this one: arrival order per key.
                keys.UnionWith(write.Actions.Select(a => a.Entity.RowKey));
                continue;
            }
            batch.Add(write);
            keys.UnionWith(write.Actions.Select(a => a.Entity.RowKey));
            rows += write.Actions.Count;
            chars += size;
        }
        pending.RemoveAll(batch.Contains);
        return batch;
    }

    private static long Chars(ITableEntity entity) =>
        entity is TableEntity row ? row.Sum(p => p.Key.Length + (p.Value is string s ? s.Length : 16)) : 1_000;

    private sealed class Lane
    {
        public List<PendingWrite> Pending { get; } = [];

        public bool Flushing { get; set; }
    }

    private sealed record PendingWrite(IReadOnlyList<TableTransactionAction> Actions, TaskCompletionSource<IReadOnlyList<Response>> Done);
}
