using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Storage;

/// <summary>
/// What the app adds on top of the Azure SDKs, against a real Azurite: the transaction guard Azure enforces and
/// Azurite does not, filters that keep hostile values inside their literals, opaque cursors, whole-second delays.
/// </summary>
[Collection("azurite")]
public sealed class StorageAdapterTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_transaction_across_partitions_is_refused_before_anything_is_sent()
    {
        var table = await NewTableAsync();
        var actions = new[]
        {
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("a", "1")),
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("b", "1")),
        };

        await Assert.ThrowsAsync<ArgumentException>(() => table.CommitAsync(actions));

        Assert.Empty(await AllAsync(table.QueryAsync<TableEntity>()));
    }

    [Fact]
    public async Task A_transaction_with_a_repeated_row_or_over_100_actions_is_refused()
    {
        var table = await NewTableAsync();
        await Assert.ThrowsAsync<ArgumentException>(() => table.CommitAsync(
            [new(TableTransactionActionType.Add, new TableEntity("p", "1")), new(TableTransactionActionType.UpsertMerge, new TableEntity("p", "1"))]));
        await Assert.ThrowsAsync<ArgumentException>(() => table.CommitAsync(
            Enumerable.Range(0, 101).Select(i => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("p", i.ToString("D3"))))));
        await Assert.ThrowsAsync<ArgumentException>(() => table.CommitAsync([]));
        Assert.Empty(await AllAsync(table.QueryAsync<TableEntity>()));
    }

    [Fact]
    public async Task A_failing_transaction_writes_nothing_and_names_the_failed_action()
    {
        var table = await NewTableAsync();
        await table.AddEntityAsync(new TableEntity("p", "2"));

        var failure = await Assert.ThrowsAsync<TableTransactionFailedException>(() => table.CommitAsync(
            [new(TableTransactionActionType.Add, new TableEntity("p", "1")), new(TableTransactionActionType.Add, new TableEntity("p", "2"))]));

        Assert.Equal(1, failure.FailedTransactionActionIndex);
        Assert.Null(await table.FindAsync("p", "1"));
    }

    [Fact]
    public async Task A_write_with_a_stale_etag_fails_with_412()
    {
        var table = await NewTableAsync();
        var first = (await table.AddEntityAsync(new TableEntity("p", "r") { ["N"] = 1 })).GetETag();
        await table.UpdateEntityAsync(new TableEntity("p", "r") { ["N"] = 2 }, first);

        var stale = await Assert.ThrowsAsync<RequestFailedException>(() => table.UpdateEntityAsync(new TableEntity("p", "r") { ["N"] = 3 }, first));

        Assert.Equal(412, stale.Status);
        Assert.Equal(2, (await table.FindAsync("p", "r"))!.GetInt32("N"));
    }

    [Theory]
    [InlineData("' or PartitionKey ne '")]
    [InlineData("x') or (RowKey ne '")]
    [InlineData("a'' or ''1'' eq ''1")]
    [InlineData("\u00e4\u00f6\u00fc' or true or '")]
    public async Task Hostile_values_stay_inside_their_filter_literal(string hostile)
    {
        var table = await NewTableAsync();
        await table.AddEntityAsync(new TableEntity("victim", "secret"));
        await table.AddEntityAsync(new TableEntity(hostile, "own"));

        var rows = await AllAsync(table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {hostile}")));

        Assert.Equal("own", Assert.Single(rows).RowKey);
    }

    [Fact]
    public async Task Cursor_pages_visit_every_row_once_and_foreign_cursors_are_recognised()
    {
        var table = await NewTableAsync();
        await table.CommitAsync(Enumerable.Range(0, 7).Select(i => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("p", $"r{i}"))));
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var (items, next) = await table.QueryPageAsync(TableClient.CreateQueryFilter($"PartitionKey eq {"p"}"), cursor, 3);
            seen.AddRange(items.Select(e => e.RowKey));
            Assert.True(next is null || TableClientExtensions.IsWellFormedCursor(next));
            cursor = next;
        }
        while (cursor is not null);

        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"r{i}"), seen);
        Assert.False(TableClientExtensions.IsWellFormedCursor("not base64 ~~"));
        Assert.False(TableClientExtensions.IsWellFormedCursor(Convert.ToBase64String("a\nb"u8)));
        await Assert.ThrowsAsync<ArgumentException>(() => table.QueryPageAsync(null, "%%%", 3));
    }

    [Fact]
    public async Task A_delay_is_rounded_up_to_whole_seconds_never_down()
    {
        var queue = azurite.Queues.GetQueueClient(AzuriteFixture.UniqueName("delay"));
        await queue.CreateIfNotExistsAsync();

        var receipt = (await queue.SendAfterAsync("later", TimeSpan.FromMilliseconds(1200))).Value;

        Assert.Equal(TimeSpan.FromSeconds(2), receipt.TimeNextVisible - receipt.InsertionTime);
        Assert.Empty((await queue.ReceiveMessagesAsync(1)).Value);
    }

    [Fact]
    public async Task A_delayed_message_updated_by_its_send_receipt_is_visible_at_once_with_the_new_content()
    {
        // What an order command does with its follow-up message (OrderFollowUps): send it delayed, release it after the commit.
        var queue = azurite.Queues.GetQueueClient(AzuriteFixture.UniqueName("update"));
        await queue.CreateIfNotExistsAsync();
        var sent = (await queue.SendAfterAsync("pending", TimeSpan.FromMinutes(5))).Value;
        Assert.Empty((await queue.ReceiveMessagesAsync(1)).Value);

        await queue.UpdateMessageAsync(sent.MessageId, sent.PopReceipt, "committed", TimeSpan.Zero);

        var received = Assert.Single((await queue.ReceiveMessagesAsync(1)).Value);
        Assert.Equal(sent.MessageId, received.MessageId);
        Assert.Equal("committed", received.Body.ToString());
        Assert.Equal(1, received.DequeueCount);
        // The receive changed the receipt: a late release or withdrawal fails instead of touching a message being handled.
        var stale = await Assert.ThrowsAsync<RequestFailedException>(() => queue.DeleteMessageAsync(sent.MessageId, sent.PopReceipt));
        Assert.Equal((400, "PopReceiptMismatch"), (stale.Status, stale.ErrorCode));
    }

    // The Durable packages bring System.Linq.Async, whose ToListAsync clashes with the framework's.
    private static async Task<List<TableEntity>> AllAsync(IAsyncEnumerable<TableEntity> rows)
    {
        var list = new List<TableEntity>();
        await foreach (var row in rows)
        {
            list.Add(row);
        }
        return list;
    }

    private async Task<TableClient> NewTableAsync()
    {
        var table = azurite.Tables.GetTableClient(AzuriteFixture.UniqueName("adapter"));
        await table.CreateIfNotExistsAsync();
        return table;
    }
}

/// <summary>The storage protocol is the SDKs' business: no source file of the app speaks or signs it by hand.</summary>
public sealed class NoHandWrittenStorageProtocolTests
{
    [Fact]
    public void No_source_file_signs_storage_requests_or_builds_their_wire_format()
    {
        string[] protocolMarks = ["SharedKey", "x-ms-version", "x-ms-date", "$batch", "multipart/mixed", "odata=", "DataServiceVersion", "numofmessages", "popreceipt="];
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "ThreePL.sln")))
        {
            root = root.Parent;
        }
        Assert.NotNull(root);
        var sources = Directory.EnumerateFiles(Path.Combine(root.FullName, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(sources);
        var offending = sources
            .SelectMany(f => protocolMarks.Where(m => File.ReadAllText(f).Contains(m, StringComparison.OrdinalIgnoreCase)).Select(m => $"{Path.GetRelativePath(root.FullName, f)}: {m}"))
            .ToList();
        Assert.True(offending.Count == 0, string.Join('\n', offending));
    }
}

/// <summary>The outbox keeps what it relays whole, however large: an order event carries the whole order.</summary>
[Collection("azurite")]
public sealed class OutboxRowTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_message_larger_than_one_table_property_survives_the_outbox_row()
    {
        using var app = new TestApp(azurite);
        var outbox = app.Services.GetRequiredService<ThreePL.Functions.Messaging.Outbox>();
        var names = app.Services.GetRequiredService<StorageNames>();
        var table = azurite.Tables.GetTableClient(names.Table("orders"));
        await table.CreateIfNotExistsAsync();
        var partition = "outbox-test-" + Guid.NewGuid().ToString("N");
        var body = string.Concat(Enumerable.Range(0, 7_000).Select(i => i.ToString("D10", System.Globalization.CultureInfo.InvariantCulture)));
        var message = new ThreePL.Functions.Messaging.OutboxMessage("m1", "events", body);

        await table.CommitAsync([ThreePL.Functions.Messaging.Outbox.Add(partition, message)]);

        // Azure refuses a string property over 32 K UTF-16 characters (Azurite does not check): none is that long.
        var row = Assert.Single(await AllRowsAsync(table, partition));
        Assert.All(row.Select(p => p.Value).OfType<string>(), value => Assert.True(value.Length <= 32 * 1024, $"a property of {value.Length} characters"));
        var pending = Assert.Single(await outbox.ReadPendingAsync("orders", partition, CancellationToken.None));
        Assert.Equal(70_000, pending.Body.Length);
        Assert.Equal(body, pending.Body);
    }

    private static async Task<List<TableEntity>> AllRowsAsync(TableClient table, string partition)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition}")))
        {
            rows.Add(row);
        }
        return rows;
    }
}
