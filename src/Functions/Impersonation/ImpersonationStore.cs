using Azure.Data.Tables;
using ThreePL.Domain.Common;
using ThreePL.Functions.ApiKeys;
using ThreePL.Functions.Audit;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Impersonation;

/// <summary>A "log in to brand" grant as stored: only the hash of its secret.</summary>
public sealed record ImpersonationGrant(ConnectionId ConnectionId, ApiKeyId Id, AccountId ThreePlAccountId, AccountId BrandAccountId, byte[] SecretHash, DateTimeOffset ExpiresAt);

/// <summary>
/// Grants live in their connection's partition of table <c>connections</c> (RowKey <c>impersonation|{id}</c>),
/// written with the audit record of their creation in one transaction. The token
/// <c>tpi_{connectionId}.{id}.{secret}</c> names the row, so checking it is one point read (plus the
/// connection row, whose status decides whether the grant still works).
/// </summary>
public sealed class ImpersonationStore(ConnectionStore connections)
{
    public const string TokenPrefix = "tpi_";
    private const string RowPrefix = "impersonation|";

    public static (string Token, byte[] Hash) NewToken(ConnectionId connection, ApiKeyId id)
    {
        var secret = ApiKeySecret.NewSecret();
        return ($"{TokenPrefix}{connection.Value}.{id.Value}.{secret}", ApiKeySecret.Hash(secret));
    }

    public static bool TryParse(string token, out ConnectionId connection, out ApiKeyId id, out string secret)
    {
        connection = default;
        id = default;
        secret = "";
        if (!token.StartsWith(TokenPrefix, StringComparison.Ordinal))
        {
            return false;
        }
        var parts = token[TokenPrefix.Length..].Split('.');
        if (parts.Length != 3 || parts[2].Length is < 16 or > 128 || !ConnectionId.TryParse(parts[0], out connection) || !ApiKeyId.TryParse(parts[1], out id))
        {
            return false;
        }
        secret = parts[2];
        return true;
    }

    public async Task AddAsync(ImpersonationGrant grant, AuditRecord audit, CancellationToken cancellationToken) =>
        await connections.Table.CommitAsync(
        [
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(grant.ConnectionId.Value, RowPrefix + grant.Id.Value)
            {
                ["ThreePlAccountId"] = grant.ThreePlAccountId.Value,
                ["BrandAccountId"] = grant.BrandAccountId.Value,
                ["SecretHash"] = grant.SecretHash,
                ["ExpiresAt"] = grant.ExpiresAt,
            }),
            audit.ToAction(grant.ConnectionId.Value),
        ], cancellationToken).ConfigureAwait(false);

    public async Task<ImpersonationGrant?> GetAsync(ConnectionId connection, ApiKeyId id, CancellationToken cancellationToken)
    {
        var row = await connections.Table.FindAsync(connection.Value, RowPrefix + id.Value, cancellationToken).ConfigureAwait(false);
        return row is null ? null : new ImpersonationGrant(
            connection, id,
            AccountId.Parse(row.GetString("ThreePlAccountId")!),
            AccountId.Parse(row.GetString("BrandAccountId")!),
            row.GetBinary("SecretHash") ?? [],
            row.GetDateTimeOffset("ExpiresAt") ?? DateTimeOffset.MinValue);
    }

    /// <summary>Records one request made with a grant. Not transactional with the request: it says what was asked.</summary>
    public async Task RecordRequestAsync(AuditRecord audit, CancellationToken cancellationToken) =>
        await connections.Table.AddEntityAsync(audit.ToAction(audit.ConnectionId!.Value.Value).Entity, cancellationToken).ConfigureAwait(false);
}
