using Azure;
using Azure.Data.Tables;
using ThreePL.Domain.Accounts;
using ThreePL.Domain.Common;
using ThreePL.Functions.Accounts;
using ThreePL.Functions.Audit;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.ApiKeys;

/// <summary>
/// API keys live in their account's partition of table <c>accounts</c> (see <see cref="AccountStore"/>),
/// RowKey <c>key|{keyId}</c>: listing an account's keys is a single-partition range query and no key can
/// ever be read through another account's id.
/// </summary>
public sealed class ApiKeyStore(AccountStore accounts, ApiKeyCache cache)
{
    private const string RowPrefix = "key|";

    /// <summary>The character after <c>|</c>, bounding the key rows of a partition from above.</summary>
    private const string RowPrefixEnd = "key}";

    public static string RowKey(ApiKeyId id) => RowPrefix + id.Value;

    public async Task<(ApiKeyRecord Key, ETag ETag)?> GetAsync(AccountId account, ApiKeyId id, CancellationToken cancellationToken = default)
    {
        var entity = await accounts.Table.FindAsync(account.Value, RowKey(id), cancellationToken).ConfigureAwait(false);
        return entity is null ? null : (ToRecord(entity), entity.ETag);
    }

    public async Task<(IReadOnlyList<ApiKeyRecord> Items, string? Cursor)> ListAsync(AccountId account, string? cursor, int limit, CancellationToken cancellationToken = default)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {account.Value} and RowKey ge {RowPrefix} and RowKey lt {RowPrefixEnd}");
        var page = await accounts.Table.QueryPageAsync(filter, cursor, limit, cancellationToken: cancellationToken).ConfigureAwait(false);
        return (page.Items.Select(ToRecord).ToList(), page.ContinuationToken);
    }

    /// <summary>Every key change commits with its audit record: same partition, one transaction.</summary>
    public async Task AddAsync(ApiKeyRecord key, AuditRecord audit, CancellationToken cancellationToken = default) =>
        await accounts.Table.CommitAsync(
            [new(TableTransactionActionType.Add, ToEntity(key)), audit.ToAction(key.AccountId.Value)], cancellationToken).ConfigureAwait(false);

    /// <summary>Replaces the key if it is unchanged since <paramref name="etag"/>; a 412 surfaces to the caller.</summary>
    public async Task UpdateAsync(ApiKeyRecord key, ETag etag, AuditRecord audit, CancellationToken cancellationToken = default)
    {
        await accounts.Table.CommitAsync(
            [new(TableTransactionActionType.UpdateReplace, ToEntity(key), etag), audit.ToAction(key.AccountId.Value)], cancellationToken).ConfigureAwait(false);
        cache.Forget(key.AccountId, key.Id);
    }

    public async Task DeleteAsync(AccountId account, ApiKeyId id, ETag etag, AuditRecord audit, CancellationToken cancellationToken = default)
    {
        await accounts.Table.CommitAsync(
            [new(TableTransactionActionType.Delete, new TableEntity(account.Value, RowKey(id)), etag), audit.ToAction(account.Value)], cancellationToken).ConfigureAwait(false);
        cache.Forget(account, id);
    }

    /// <summary>The key as authentication sees it: through <see cref="ApiKeyCache"/>, at most its lifetime old.</summary>
    public Task<ApiKeyRecord?> GetForAuthenticationAsync(AccountId account, ApiKeyId id, CancellationToken cancellationToken) =>
        cache.GetAsync(account, id, async token => await GetAsync(account, id, token).ConfigureAwait(false) is { } found ? found.Key : null, cancellationToken);

    /// <summary>
    /// Records use without touching anything else. A merge with <c>If-Match: *</c> never resurrects a key
    /// deleted meanwhile (it answers 404 instead), and never undoes a concurrent disable.
    /// </summary>
    public async Task TouchAsync(AccountId account, ApiKeyId id, DateTimeOffset usedAt, CancellationToken cancellationToken = default)
    {
        try
        {
            var entity = new TableEntity(account.Value, RowKey(id)) { ["LastUsedAt"] = usedAt };
            await accounts.Table.UpdateEntityAsync(entity, ETag.All, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);
            cache.Touched(account, id, usedAt);
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status404NotFound)
        {
        }
    }

    public static TableEntity ToEntity(ApiKeyRecord key) => new(key.AccountId.Value, RowKey(key.Id))
    {
        ["AccountKind"] = AccountKindNames.ToWire(key.AccountKind),
        ["Name"] = key.Name,
        ["Permissions"] = key.Permissions.ToString(),
        ["ConnectionId"] = key.ConnectionId?.Value,
        ["SecretHash"] = key.SecretHash,
        ["Enabled"] = key.Enabled,
        ["CreatedAt"] = key.CreatedAt,
        ["LastUsedAt"] = key.LastUsedAt,
    };

    public static ApiKeyRecord ToRecord(TableEntity entity)
    {
        if (!AccountKindNames.TryParse(entity.GetString("AccountKind"), out var kind))
        {
            throw new InvalidOperationException($"Key row {entity.PartitionKey}/{entity.RowKey} is corrupt.");
        }
        var connection = entity.GetString("ConnectionId");
        return new ApiKeyRecord(
            AccountId.Parse(entity.PartitionKey),
            ApiKeyId.Parse(entity.RowKey[RowPrefix.Length..]),
            kind,
            entity.GetString("Name") ?? "",
            PermissionSet.Parse(entity.GetString("Permissions") ?? ""),
            connection is null ? null : ConnectionId.Parse(connection),
            entity.GetBinary("SecretHash") ?? [],
            entity.GetBoolean("Enabled") ?? false,
            entity.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
            entity.GetDateTimeOffset("LastUsedAt"));
    }
}
