using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Storage;

/// <summary>
/// Group commit (<see cref="PartitionWriter"/>) against a real Azurite: concurrent upserts to one partition share
/// transactions and every caller returns only once its rows are stored; a failed transaction fails its callers, and
/// in a shared one only the caller whose action failed.
/// </summary>
[Collection("azurite")]
public sealed class PartitionWriterTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Concurrent_upserts_to_one_partition_share_transactions_and_each_returns_once_stored()
    {
        var transactions = new TransactionCounter();
        var table = await NewTableAsync(transactions);
        var writer = new PartitionWriter();
        const int callers = 60;

        await Task.WhenAll(Enumerable.Range(0, callers).Select(async i =>
        {
            await writer.UpsertAsync(table, [new TableEntity("p", $"a{i:D3}") { ["N"] = i }, new TableEntity("p", $"b{i:D3}") { ["N"] = i }], CancellationToken.None);
            // Returned: both rows must be readable now.
            Assert.NotNull(await table.FindAsync("p", $"a{i:D3}"));
            Assert.NotNull(await table.FindAsync("p", $"b{i:D3}"));
        }));

        Assert.Equal(callers * 2, await CountAsync(table, "p"));
        Assert.InRange(transactions.Count, 2, callers - 1);
    }

    [Fact]
    public async Task The_same_key_from_two_callers_is_never_in_one_transaction_and_the_last_write_stands()
    {
        var table = await NewTableAsync(new TransactionCounter());
        var writer = new PartitionWriter();

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => writer.UpsertAsync(table, [new TableEntity("p", "same") { ["N"] = i }], CancellationToken.None)));

        Assert.Equal(1, await CountAsync(table, "p"));
    }

    [Fact]
    public async Task A_failed_transaction_fails_all_its_callers_and_the_partition_is_written_again_afterwards()
    {
        var tables = StorageClients.Tables(StorageClients.FromConnectionString(azurite.ConnectionString));
        var table = tables.GetTableClient(AzuriteFixture.UniqueName("writer"));
        var writer = new PartitionWriter();

        // The table does not exist yet: the service refuses the transaction, and every caller in it hears so.
        var failures = await Task.WhenAll(Enumerable.Range(0, 5).Select(i =>
            Assert.ThrowsAnyAsync<Azure.RequestFailedException>(() => writer.UpsertAsync(table, [new TableEntity("p", $"r{i}")], CancellationToken.None))));
        Assert.All(failures, f => Assert.Equal(404, f.Status));

        await table.CreateIfNotExistsAsync();
        await writer.UpsertAsync(table, [new TableEntity("p", "after")], CancellationToken.None);
        Assert.Equal(1, await CountAsync(table, "p"));
    }

    [Fact]
    public async Task A_conditional_action_that_fails_fails_only_its_caller_with_its_own_index_and_the_others_are_stored()
    {
        var table = await NewTableAsync(new TransactionCounter());
        var writer = new PartitionWriter();
        const int callers = 30;
        const int doomed = 7;
        await table.AddEntityAsync(new TableEntity("p", $"b{doomed:D3}"));

        var outcomes = await Task.WhenAll(Enumerable.Range(0, callers).Select(async i =>
        {
            try
            {
                var responses = await writer.CommitAsync(table,
                    [new(TableTransactionActionType.Add, new TableEntity("p", $"a{i:D3}")), new(TableTransactionActionType.Add, new TableEntity("p", $"b{i:D3}"))],
                    CancellationToken.None);
                Assert.Equal(2, responses.Count);
                Assert.All(responses, r => Assert.Equal(204, r.Status));
                return (Caller: i, Failure: (TableTransactionFailedException?)null);
            }
            catch (TableTransactionFailedException ex)
            {
                return (Caller: i, Failure: ex);
            }
        }));

        var failed = Assert.Single(outcomes, o => o.Failure is not null);
        Assert.Equal(doomed, failed.Caller);
        Assert.Equal(409, failed.Failure!.Status);
        Assert.Equal(1, failed.Failure.FailedTransactionActionIndex);
        Assert.Null(await table.FindAsync("p", $"a{doomed:D3}"));
        Assert.Equal((callers - 1) * 2 + 1, await CountAsync(table, "p"));
    }

    [Fact]
    public async Task Rows_of_several_partitions_or_repeated_keys_are_refused_before_anything_is_sent()
    {
        var table = await NewTableAsync(new TransactionCounter());
        var writer = new PartitionWriter();

        await Assert.ThrowsAsync<ArgumentException>(() => writer.UpsertAsync(table, [new TableEntity("a", "1"), new TableEntity("b", "1")], CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => writer.UpsertAsync(table, [new TableEntity("a", "1"), new TableEntity("a", "1")], CancellationToken.None));
        Assert.Equal(0, await CountAsync(table, "a"));
    }

    private async Task<TableClient> NewTableAsync(TransactionCounter counter)
    {
        var tables = StorageClients.Tables(StorageClients.FromConnectionString(azurite.ConnectionString), [new StoragePolicy(counter)]);
        var table = tables.GetTableClient(AzuriteFixture.UniqueName("writer"));
        await table.CreateIfNotExistsAsync();
        return table;
    }

    private static async Task<int> CountAsync(TableClient table, string partition)
    {
        var count = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition}")))
        {
            count++;
        }
        return count;
    }

    private sealed class TransactionCounter : HttpPipelinePolicy
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Observe(message);
            ProcessNext(message, pipeline);
        }

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Observe(message);
            return ProcessNextAsync(message, pipeline);
        }

        private void Observe(HttpMessage message)
        {
            if (message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _count);
            }
        }
    }
}
