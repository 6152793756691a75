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
public sealed class DestinationHealthStore(WebhookTable table)
{
    private TableClient Table => table.Client;

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

    public Task ResetHealthAsync(string destination, CancellationToken cancellationToken) =>
        Table.DeleteEntityAsync(HealthPartition(destination), "health", ETag.All, cancellationToken);
}
