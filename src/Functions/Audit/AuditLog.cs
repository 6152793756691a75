using Azure.Data.Tables;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Audit;

/// <summary>Reads the audit rows of one partition, newest first, a page at a time.</summary>
public static class AuditLog
{
    public static async Task<(IReadOnlyList<AuditRecord> Items, string? Cursor)> ReadAsync(TableClient table, string partitionKey, string? cursor, int limit, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey} and RowKey ge {AuditRecord.RowPrefix} and RowKey lt {AuditRecord.RowPrefixEnd}");
        var page = await table.QueryPageAsync(filter, cursor, limit, cancellationToken: cancellationToken).ConfigureAwait(false);
        return (page.Items.Select(AuditRecord.FromEntity).ToList(), page.ContinuationToken);
    }
}
