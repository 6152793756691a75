using System.Collections.Concurrent;

namespace ThreePL.Functions.Infrastructure;

/// <summary>
/// Values read from storage, served for at most <see cref="Lifetime"/> after the read. The lifetime is the whole
/// promise a cache makes here: a change made on another instance is seen within it; the instance that makes a change
/// drops the entry itself. Only what may be that stale goes through one; nothing relies on it for correctness.
/// </summary>
public sealed class StaleCache<TKey, TValue>(TimeProvider time, TimeSpan lifetime, int maxEntries = 50_000)
    where TKey : notnull
    where TValue : class
{
    private readonly ConcurrentDictionary<TKey, Entry> _entries = new();

    public TimeSpan Lifetime => lifetime;

    /// <param name="key">What to look up.</param>
    /// <param name="read">Reads the value from storage; a null is returned and never remembered.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public async Task<TValue?> GetAsync(TKey key, Func<CancellationToken, Task<TValue?>> read, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_entries.TryGetValue(key, out var cached) && now - cached.ReadAt < lifetime)
        {
            return cached.Value;
        }
        var value = await read(cancellationToken).ConfigureAwait(false);
        if (value is not null && lifetime > TimeSpan.Zero)
        {
            if (_entries.Count >= maxEntries)
            {
                // Starting over is cheaper than tracking recency, and a full cache means the bound was sized wrong anyway.
                _entries.Clear();
            }
            _entries[key] = new Entry(value, now);
        }
        return value;
    }

    /// <summary>Keeps a value this instance has just read from storage another way, as if this cache had read it now.</summary>
    public void Remember(TKey key, TValue value)
    {
        if (lifetime > TimeSpan.Zero)
        {
            if (_entries.Count >= maxEntries)
            {
                _entries.Clear();
            }
            _entries[key] = new Entry(value, time.GetUtcNow());
        }
    }

    /// <summary>Replaces a cached value with what this instance just wrote, keeping its read time.</summary>
    public void Update(TKey key, Func<TValue, TValue> change)
    {
        if (_entries.TryGetValue(key, out var cached))
        {
            _entries.TryUpdate(key, cached with { Value = change(cached.Value) }, cached);
        }
    }

    public void Forget(TKey key) => _entries.TryRemove(key, out _);

    public void Clear() => _entries.Clear();

    private sealed record Entry(TValue Value, DateTimeOffset ReadAt);

    /// <summary>
    /// A lifetime from configuration, never above <paramref name="max"/> (the documented bound) and never negative;
    /// zero turns caching off.
    /// </summary>
    public static TimeSpan LifetimeFrom(IConfiguration configuration, string key, TimeSpan max) =>
        configuration.GetValue<TimeSpan?>(key) is { } configured && configured >= TimeSpan.Zero && configured <= max ? configured : max;
}
