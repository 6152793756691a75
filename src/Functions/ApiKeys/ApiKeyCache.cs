using ThreePL.Domain.Accounts;
using ThreePL.Domain.Common;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.ApiKeys;

/// <summary>
/// Keys as authentication last read them, for at most <see cref="MaxLifetime"/>: every API request used to cost a
/// point read of its key. A key disabled or deleted on one instance stops working there at once (the store drops it
/// here) and on every other instance within <see cref="MaxLifetime"/>. Nothing else reads through it: commands that
/// change a key read the row and its ETag.
/// </summary>
public sealed class ApiKeyCache(TimeProvider time, IConfiguration configuration)
{
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromSeconds(5);

    private readonly StaleCache<(AccountId, ApiKeyId), ApiKeyRecord> _keys =
        new(time, StaleCache<(AccountId, ApiKeyId), ApiKeyRecord>.LifetimeFrom(configuration, "ThreePL:Auth:KeyCacheLifetime", MaxLifetime));

    public Task<ApiKeyRecord?> GetAsync(AccountId account, ApiKeyId id, Func<CancellationToken, Task<ApiKeyRecord?>> read, CancellationToken cancellationToken) =>
        _keys.GetAsync((account, id), read, cancellationToken);

    /// <summary>After a use was recorded, so the next request of this key does not record it again.</summary>
    public void Touched(AccountId account, ApiKeyId id, DateTimeOffset usedAt) =>
        _keys.Update((account, id), key => key with { LastUsedAt = usedAt });

    public void Forget(AccountId account, ApiKeyId id) => _keys.Forget((account, id));
}
