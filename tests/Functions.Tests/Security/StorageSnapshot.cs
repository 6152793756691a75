using System.Reflection;
using System.Text;
using Azure.Data.Tables;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Security;

/// <summary>
/// Every row of every table of one app, as comparable text: "nothing changed" means the same rows with the
/// same values. Use-bookkeeping that a read legitimately updates (an API key's <c>LastUsedAt</c>) is left out.
/// "Every table" is every table the code names (<see cref="DeclaredTables"/>), every table the prefix has in
/// storage (one the code creates some other way too), and the app's Durable task hub tables.
/// </summary>
public static class StorageSnapshot
{
    // Timestamp and odata.etag are the service's own bookkeeping, which the SDK hands back as properties.
    private static readonly HashSet<string> Ignored = ["LastUsedAt", "Timestamp", "odata.etag"];

    /// <summary>The base name of every table the app's code declares: each <c>TableName</c> constant of the Functions assembly.</summary>
    public static IReadOnlySet<string> DeclaredTables { get; } = typeof(StorageLayout).Assembly.GetTypes()
        .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
        .Where(f => f is { IsLiteral: true, Name: "TableName" } && f.FieldType == typeof(string))
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// Waits until background work (relays, safety nets, deliveries, workflow steps) has finished — no queued
    /// message, no unrelayed outbox row — and two readings in a row agree, so any later change is the test's.
    /// </summary>
    public static Task<SortedSet<string>> StableAsync(AzuriteFixture azurite, string prefix)
    {
        SortedSet<string>? previous = null;
        return Eventually.Get(async () =>
        {
            if (!await AppIdle.IsIdleAsync(azurite, prefix))
            {
                previous = null;
                return null;
            }
            var current = await TakeAsync(azurite.Tables, prefix);
            var settled = previous is not null && current.SetEquals(previous);
            previous = current;
            return settled ? current : null;
        }, "storage to settle");
    }

    public static async Task<SortedSet<string>> TakeAsync(TableServiceClient tables, string prefix)
    {
        var names = DeclaredTables.Concat(AppSetup.Storage.Tables).Select(t => prefix + t)
            .Concat(await AppIdle.TablesAsync(tables, prefix))
            .Concat(await AppIdle.TablesAsync(tables, TestApp.HubName(prefix)))
            .ToHashSet(StringComparer.Ordinal);
        var rows = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var table = tables.GetTableClient(name);
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
