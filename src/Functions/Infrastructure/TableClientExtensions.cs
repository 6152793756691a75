using ThreePL.Functions.Storage.Tables;

namespace ThreePL.Functions.Infrastructure;

public static class TableClientExtensions
{
    /// <summary>The entity, or null when it does not exist: the stores' usual read.</summary>
    public static async Task<TableEntity?> FindAsync(this TableClient table, string partitionKey, string rowKey, CancellationToken cancellationToken = default)
    {
        var response = await table.GetEntityIfExistsAsync(partitionKey, rowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue ? response.Value : null;
    }
}
