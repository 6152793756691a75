using System.Collections.Concurrent;

namespace ThreePL.Functions.Infrastructure;

/// <summary>
/// Values read from storage, served for at most <see cref="Lifetime"/> after the read. The lifetime is the whole
/// promise a cache makes here: a change made on another instance is seen within it; the instance that makes a change
/// drops the entry itself. Only what may be that stale goes through one; nothing relies on it for correctness.
/// </summary>
/// <remarks>
/// A read's time is when it started, and a caller is given only a value whose read started less than
/// <see cref="Lifetime"/> before its call: a change committed that long before a call is always seen by it. So callers
/// that miss the same key while its read is under way wait for that read instead of reading again (a cold burst of
/// requests for one account costs one read, not one per request), as long as the read is not older than the lifetime.
/// The shared read is not cancelled with any one caller's token: the others still wait for it (the storage client's
/// own timeouts end a read that hangs). A failed read fails the callers waiting on it and is not remembered, so the
/// next call reads again; so is a null.
/// </remarks>
public sealed class StaleCache<TKey, TValue>(TimeProvider time, TimeSpan lifetime, int maxEntries = 50_000)
    where TKey : notnull
    where TValue : class
{
    private readonly ConcurrentDictionary<TKey, Entry> _entries = new();

    public TimeSpan Lifetime => lifetime;

    /// <param name="key">What to look up.</param>
    /// <param name="read">Reads the value from storage; a null is returned and never remembered.</param>
    /// <param name="cancellationToken">Stops this caller's wait; a read other callers wait for goes on.</param>
    public async Task<TValue?> GetAsync(TKey key, Func<CancellationToken, Task<TValue?>> read, CancellationToken cancellationToken)
    {
        if (lifetime <= TimeSpan.Zero)
        {
            return await read(cancellationToken).ConfigureAwait(false);
        }
        var now = time.GetUtcNow();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var found = _entries.TryGetValue(key, out var entry);
            if (found && now - entry!.ReadAt < lifetime)
            {
                return await entry.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            var flight = new TaskCompletionSource<TValue?>(TaskCreationOptions.RunContinuationsAsynchronously);
            var fresh = new Entry(flight.Task, now);
            if (found ? _entries.TryUpdate(key, fresh, entry!) : TryAdd(key, fresh))
            {
                _ = ReadAsync(key, fresh, flight, read);
                return await fresh.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            // Another caller started a read of this key meanwhile: look again and wait for it.
        }
    }

    /// <summary>
    /// Keeps a value this instance read from storage another way, as if this cache had started that read at
    /// <paramref name="readStartedAt"/>; a newer entry or a read under way is left alone.
    /// </summary>
    public void Remember(TKey key, TValue value, DateTimeOffset readStartedAt)
    {
        if (lifetime <= TimeSpan.Zero)
        {
            return;
        }
        var entry = new Entry(Task.FromResult<TValue?>(value), readStartedAt);
        if (!TryAdd(key, entry) && _entries.TryGetValue(key, out var current) && current.ReadAt < readStartedAt && current.Value.IsCompleted)
        {
            _entries.TryUpdate(key, entry, current);
        }
    }

    private bool TryAdd(TKey key, Entry entry)
    {
        if (_entries.Count >= maxEntries)
        {
            // Starting over is cheaper than tracking recency, and a full cache means the bound was sized wrong anyway.
            _entries.Clear();
        }
        return _entries.TryAdd(key, entry);
    }

    private async Task ReadAsync(TKey key, Entry entry, TaskCompletionSource<TValue?> flight, Func<CancellationToken, Task<TValue?>> read)
    {
        try
        {
            var value = await read(CancellationToken.None).ConfigureAwait(false);
            if (value is null)
            {
                _entries.TryRemove(new KeyValuePair<TKey, Entry>(key, entry));
            }
            flight.SetResult(value);
        }
        catch (Exception ex)
        {
            // Removed before the waiters hear of it, so that a caller who retries reads again instead of finding this failure.
            _entries.TryRemove(new KeyValuePair<TKey, Entry>(key, entry));
            flight.SetException(ex);
            // Observed here: every waiter may have stopped waiting, and a failure nobody awaits must not surface as unobserved.
            _ = flight.Task.Exception;
        }
    }

    /// <summary>Replaces a cached value with what this instance just wrote, keeping its read time; a read under way is left alone.</summary>
    public void Update(TKey key, Func<TValue, TValue> change)
    {
        if (_entries.TryGetValue(key, out var cached) && cached.Value.IsCompletedSuccessfully && cached.Value.Result is { } value)
        {
            _entries.TryUpdate(key, cached with { Value = Task.FromResult<TValue?>(change(value)) }, cached);
        }
    }

    /// <summary>Drops the value and any read under way: whoever calls next reads again, and a read that started before is never remembered.</summary>
    public void Forget(TKey key) => _entries.TryRemove(key, out _);

    public void Clear() => _entries.Clear();

    /// <summary>A value, or the read that is getting it, and when that read started.</summary>
    private sealed record Entry(Task<TValue?> Value, DateTimeOffset ReadAt);

    /// <summary>
    /// A lifetime from configuration, never above <paramref name="max"/> (the documented bound) and never negative;
    /// zero turns caching off.
    /// </summary>
    public static TimeSpan LifetimeFrom(IConfiguration configuration, string key, TimeSpan max) =>
        configuration.GetValue<TimeSpan?>(key) is { } configured && configured >= TimeSpan.Zero && configured <= max ? configured : max;
}
