using Azure.Data.Tables;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Security;

/// <summary>
/// The snapshot behind "hostile requests change nothing" must see every table, or a change in a table it
/// misses passes unseen: these fail when a table is added without the layout creating it, or when the app
/// keeps rows somewhere the snapshot does not read.
/// </summary>
[Collection("azurite")]
public sealed class StorageSnapshotTests(AzuriteFixture azurite)
{
    [Fact]
    public void Every_table_the_code_declares_is_one_the_storage_layout_creates()
    {
        Assert.True(StorageSnapshot.DeclaredTables.Count >= 8, $"Only {StorageSnapshot.DeclaredTables.Count} TableName constants found.");
        Assert.Equal(StorageSnapshot.DeclaredTables.Order(StringComparer.Ordinal), AppSetup.Storage.Tables.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_snapshot_reads_every_table_the_app_has_in_storage_and_sees_a_change_in_any_of_them()
    {
        using var app = new TestApp(azurite);
        await HostileWorld.BuildAsync(app);
        var snapshot = await StorageSnapshot.StableAsync(azurite, app.Prefix);

        var inStorage = await AppIdle.TablesAsync(azurite.Tables, app.Prefix);
        Assert.All(inStorage, table => Assert.Contains(table[app.Prefix.Length..], StorageSnapshot.DeclaredTables));
        var hubTables = await AppIdle.TablesAsync(azurite.Tables, TestApp.HubName(app.Prefix));
        Assert.NotEmpty(hubTables);
        foreach (var table in inStorage.Concat(hubTables))
        {
            var hasRows = false;
            await foreach (var _ in azurite.Tables.GetTableClient(table).QueryAsync<TableEntity>(maxPerPage: 1))
            {
                hasRows = true;
                break;
            }
            Assert.Equal(hasRows, snapshot.Any(row => row.StartsWith(table + "/", StringComparison.Ordinal)));
        }

        foreach (var table in StorageSnapshot.DeclaredTables)
        {
            var client = azurite.Tables.GetTableClient(app.Prefix + table);
            await client.AddEntityAsync(new TableEntity("snapshot-test", "row"));
            Assert.Contains(await StorageSnapshot.TakeAsync(azurite.Tables, app.Prefix), row => row.StartsWith($"{app.Prefix + table}/snapshot-test/row:", StringComparison.Ordinal));
            await client.DeleteEntityAsync("snapshot-test", "row");
        }
    }
}
