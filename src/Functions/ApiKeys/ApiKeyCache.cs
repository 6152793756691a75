using System.Collections.Concurrent;
using ThreePL.Domain.Accounts;
using ThreePL.Domain.Common;

namespace ThreePL.Functions.ApiKeys;

/// <summary>
/// Keys as authentication last read them, for at most <see cref="Lifetime"/>: every API request used to cost a
/// point read of its key. The bound is the whole promise: a key disabled or deleted on one instance stops
/// working there at once (the store drops it here) and on every other instance within <see cref="Lifetime"/>,
/// because an entry is never served older than that. Nothing else reads through it: commands that change a key
/// read the row and its ETag.
/// </summary>
public sealed class ApiKeyCache(TimeProvider time, IConfiguration configuration)
{
    /// <summary>Enough for every active key of a large deployment; beyond it the cache starts over rather than grow.</summary>
    private const int MaxEntries = 50_000;

    private readonly ConcurrentDictionary<(AccountId, ApiKeyId), Entry> _entries = new();

    public TimeSpan Lifetime { get; } = configuration.GetValue<TimeSpan?>("ThreePL:Auth:KeyCacheLifetime") is { } configured
        && configured >= TimeSpan.Zero && configured <= TimeSpan.FromSeconds(5)
            ? configured
            : TimeSpan.FromSeconds(5);

    public async Task<ApiKeyRecord?> GetAsync(AccountId account, ApiKeyId id, Func<CancellationToken, Task<ApiKeyRecord?>> read, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_entries.TryGetValue((account, id), out var cached) && now - cached.ReadAt < Lifetime)
        {
            return cached.Key;
        }
        var key = await read(cancellationToken).ConfigureAwait(false);
        // Unknown ids are not remembered: anyone can send them, and they would only crowd out real keys.
        if (key is not null && Lifetime > TimeSpan.Zero)
        {
            if (_entries.Count >= MaxEntries)
            {
                _entries.Clear();
            }
            _entries[(account, id)] = new Entry(key, now);
        }
        return key;
    }

    /// <summary>After a use was recorded, so the next request of this key does not record it again.</summary>
    public void Touched(AccountId account, ApiKeyId id, DateTimeOffset usedAt)
    {
        if (_entries.TryGetValue((account, id), out var cached))
        {
            _entries.TryUpdate((account, id), cached with { Key = cached.Key with { LastUsedAt = usedAt } }, cached);
        }
    }

    public void Forget(AccountId account, ApiKeyId id) => _entries.TryRemove((account, id), out _);

    private sealed record Entry(ApiKeyRecord Key, DateTimeOffset ReadAt);
}
