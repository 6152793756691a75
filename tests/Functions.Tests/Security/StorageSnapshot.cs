using System.Text;
using Azure.Data.Tables;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Tests.Security;

/// <summary>
/// Every row of every table of one app, as comparable text: "nothing changed" means the same rows with the
/// same values. Use-bookkeeping that a read legitimately updates (an API key's <c>LastUsedAt</c>) is left out.
/// </summary>
public static class StorageSnapshot
{
        // Timestamp and odata.etag are the service's own bookkeeping, which the SDK hands back as properties.
    private static readonly HashSet<string> Ignored = ["LastUsedAt", "Timestamp", "odata.etag"];

    /// <summary>Waits until background work (relays, safety nets, e-mails) has settled, so any later change is the test's.</summary>
    public static async Task<SortedSet<string>> StableAsync(TableServiceClient tables, string prefix)
    {
        var previous = await TakeAsync(tables, prefix);
        for (var i = 0; i < 20; i++)
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            var current = await TakeAsync(tables, prefix);
            if (current.SetEquals(previous))
            {
                return current;
            }
            previous = current;
        }
        throw new TimeoutException("Storage never settled.");
    }

    public static async Task<SortedSet<string>> TakeAsync(TableServiceClient tables, string prefix)
    {
        var rows = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var name in AppSetup.Storage.Tables)
        {
            var table = tables.GetTableClient(prefix + name);
            await table.CreateIfNotExistsAsync();
            await foreach (var row in table.QueryAsync<TableEntity>())
            {
                var text = new StringBuilder($"{name}/{row.PartitionKey}/{row.RowKey}:");
                foreach (var (key, value) in row.Where(p => !Ignored.Contains(p.Key)).OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    text.Append(key).Append('=').Append(value is byte[] bytes ? Convert.ToBase64String(bytes) : value?.ToString()).Append(';');
                }
                rows.Add(text.ToString());
            }
        }
        return rows;
    }
}
