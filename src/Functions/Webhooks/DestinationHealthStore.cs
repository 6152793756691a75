using Azure;
using Azure.Data.Tables;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Webhooks;

/// <summary>
/// How a destination (an endpoint id or a connection id) has fared. <see cref="Url"/> is the URL this concerns:
/// when a connection's webhook URL changes, the old URL's record no longer applies.
/// </summary>
public sealed record DestinationHealth(string Url, DateTimeOffset? FailingSince, bool Disabled, string? DisabledReason, DateTimeOffset? DisabledAt, ETag ETag);

/// <summary>
/// Partition <c>health|{destination}</c> of <see cref="WebhookTable"/>, RowKey <c>health</c>: failing-since and
/// disabled, for an endpoint or a connection's webhook URL alike. ETag-guarded; one per destination so a busy
/// destination's deliveries never contend on their own rows.
/// </summary>
/// <remarks>
/// Almost every attempt goes to a healthy destination and would read its health only to learn that. So "healthy"
/// (no row, or a row that is neither failing nor disabled) may be served from a cache for as long as webhook targets
/// are (<see cref="WebhookTargets.MaxLifetime"/>): a destination that started failing on another instance is seen as
/// failing within that bound. Nothing is decided on a cached value: anything but "healthy" is read again, and so is
/// the health of every failed attempt before it is saved.
/// </remarks>
public sealed class DestinationHealthStore
{
    private readonly WebhookTable _table;
    private readonly StaleCache<string, CachedHealth> _healthy;

    public DestinationHealthStore(WebhookTable table, TimeProvider time, IConfiguration configuration)
    {
        _table = table;
        _healthy = new(time, StaleCache<string, CachedHealth>.LifetimeFrom(configuration, "ThreePL:Webhooks:TargetCacheLifetime", WebhookTargets.MaxLifetime));
    }

    private TableClient Table => _table.Client;

    /// <summary>The destination's health, from the cache when it was last known healthy.</summary>
    public async Task<DestinationHealth?> GetHealthForAttemptAsync(string destination, CancellationToken cancellationToken)
    {
        var cached = await _healthy.GetAsync(destination, async token => new CachedHealth(await GetHealthAsync(destination, token).ConfigureAwait(false)), cancellationToken).ConfigureAwait(false);
        if (cached!.Health is null or { FailingSince: null, Disabled: false })
        {
            return cached.Health;
        }
        _healthy.Forget(destination);
        return await GetHealthAsync(destination, cancellationToken).ConfigureAwait(false);
    }

    private static string HealthPartition(string destination) => "health|" + destination;

    public async Task<DestinationHealth?> GetHealthAsync(string destination, CancellationToken cancellationToken)
    {
        var row = await Table.FindAsync(HealthPartition(destination), "health", cancellationToken).ConfigureAwait(false);
        return row is null ? null : new DestinationHealth(
            row.GetString("Url") ?? "", row.GetDateTimeOffset("FailingSince"), row.GetBoolean("Disabled") ?? false,
            row.GetString("DisabledReason"), row.GetDateTimeOffset("DisabledAt"), row.ETag);
    }

    /// <summary>Writes health under the ETag it was read with (insert when <paramref name="previous"/> is null); false on a lost race.</summary>
    public async Task<bool> TrySaveHealthAsync(string destination, DestinationHealth health, DestinationHealth? previous, CancellationToken cancellationToken)
    {
        var row = new TableEntity(HealthPartition(destination), "health")
        {
            ["Url"] = health.Url,
            ["FailingSince"] = health.FailingSince,
            ["Disabled"] = health.Disabled,
            ["DisabledReason"] = health.DisabledReason,
            ["DisabledAt"] = health.DisabledAt,
        };
        _healthy.Forget(destination);
        try
        {
            if (previous is null)
            {
                await Table.AddEntityAsync(row, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await Table.UpdateEntityAsync(row, previous.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            }
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is StatusCodes.Status409Conflict or StatusCodes.Status412PreconditionFailed or StatusCodes.Status404NotFound)
        {
            return false;
        }
    }

    public Task ResetHealthAsync(string destination, CancellationToken cancellationToken)
    {
        _healthy.Forget(destination);
        return Table.DeleteEntityAsync(HealthPartition(destination), "health", ETag.All, cancellationToken);
    }

    private sealed record CachedHealth(DestinationHealth? Health);
}
