using Azure;
using Azure.Data.Tables;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Storage;

/// <summary>
/// The counting proxy the benchmark and the operation budget rely on: requests pass through unchanged (signed
/// requests, batches and receives succeed against Azurite behind it) and each is counted once, by kind, resource
/// pattern and stage.
/// </summary>
[Collection("azurite")]
public sealed class CountingStorageProxyTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Every_request_passes_through_and_is_counted_once_by_kind_and_stage()
    {
        var prefix = TestApp.NewPrefix();
        await using var proxy = CountingStorageProxy.Start(new StorageOperationClassifier(prefix, TestApp.HubName(prefix)),
            AzuriteFixture.DevelopmentAccountName, AzuriteFixture.DevelopmentAccountKey, azurite.Ports);
        var storage = StorageClients.FromConnectionString(proxy.ConnectionString);
        var table = StorageClients.Tables(storage).GetTableClient(prefix + "orders");
        var queue = StorageClients.Queues(storage).GetQueueClient(prefix + "order-routing");
        await table.CreateIfNotExistsAsync();
        await queue.CreateIfNotExistsAsync();
        await CountedAsync(proxy, 2);
        proxy.Reset();

        await table.AddEntityAsync(new TableEntity("ord_1x", "order") { ["Status"] = "received" });
        Assert.True((await table.GetEntityIfExistsAsync<TableEntity>("ord_1x", "order")).HasValue);
        Assert.False((await table.GetEntityIfExistsAsync<TableEntity>("ord_1x", "missing")).HasValue);
        await table.UpdateEntityAsync(new TableEntity("ord_1x", "order") { ["Status"] = "routed" }, ETag.All);
        await table.UpsertEntityAsync(new TableEntity("m|acc_1x", "ord_1x"));
        await table.CommitAsync([
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("ord_1x", "history|0000000001")),
            new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("ord_1x", "outbox|abc")),
        ]);
        var history = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"ord_1x"} and RowKey ge {"history|"} and RowKey lt {"history}"}")))
        {
            history++;
        }
        await table.DeleteEntityAsync("ord_1x", "outbox|abc");
        Assert.Empty((await queue.ReceiveMessagesAsync(16)).Value);
        await queue.SendMessageAsync("{\"orderId\":\"ord_1x\"}");
        Assert.Single((await queue.PeekMessagesAsync(16)).Value);
        Assert.Equal(1, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
        var received = Assert.Single((await queue.ReceiveMessagesAsync(16)).Value);
        await queue.DeleteMessageAsync(received.MessageId, received.PopReceipt);

        Assert.Equal(1, history);
        var operations = await CountedAsync(proxy, 14);
        Assert.Equivalent(
            new[]
            {
                (StorageKinds.Insert, "orders: {id}/order", "orders stored apart (order, history|)"),
                (StorageKinds.PointRead, "orders: {id}/order", "orders stored apart (order, history|)"),
                (StorageKinds.PointRead, "orders: {id}/missing", "orders stored apart (order, history|)"),
                (StorageKinds.Update, "orders: {id}/order", "orders stored apart (order, history|)"),
                (StorageKinds.Upsert, "orders: m|/{id}", "merchant partition (orders, history, list, changes)"),
                (StorageKinds.Batch, "orders: {id}/{history|, outbox|}", "orders stored apart (order, history|)"),
                (StorageKinds.Query, "orders: {id}/history|", "orders stored apart (order, history|)"),
                (StorageKinds.Delete, "orders: {id}/outbox|", "orders stored apart (order, history|)"),
                (StorageKinds.ReceiveEmpty, "order-routing", "routing queue"),
                (StorageKinds.Send, "order-routing", "routing queue"),
                (StorageKinds.PeekOrMetadata, "order-routing", "routing queue"),
                (StorageKinds.PeekOrMetadata, "order-routing", "routing queue"),
                (StorageKinds.Receive, "order-routing", "routing queue"),
                (StorageKinds.DeleteMessage, "order-routing", "routing queue"),
            },
            operations.Select(o => (o.Kind, o.Resource, o.Stage)).ToArray(), strict: true);
        Assert.Equal(2, operations.Single(o => o.Kind == StorageKinds.Batch).Entities);
        Assert.Equal(1, operations.Single(o => o.Kind == StorageKinds.Receive).Messages);
        Assert.Equal(404, operations.Single(o => o.Resource.EndsWith("missing", StringComparison.Ordinal)).Status);
        Assert.Equal(0, proxy.UnparsedConnections);
    }

    /// <summary>An operation is recorded once the proxy has parsed its response, which may be just after the client got it.</summary>
    private static Task<IReadOnlyList<StorageOperation>> CountedAsync(CountingStorageProxy proxy, int count) =>
        Eventually.Get(() => Task.FromResult(proxy.Snapshot() is { } all && all.Count >= count ? all : null), $"{count} counted operations");

    [Theory]
    [InlineData("order", "order")]
    [InlineData("history|0000000002", "history|")]
    [InlineData("ord_8k2mx0f7q1", "{id}")]
    [InlineData("t|acc_3f", "t|")]
    [InlineData("con_1a|ord_2b", "{id}|")]
    [InlineData("~h|ord_2b|0000000002", "~h|")]
    [InlineData("~u|0638000000000000000|ord_2b", "~u|")]
    [InlineData("~~h|x", "{id}|")]
    [InlineData(null, "*")]
    public void A_key_pattern_keeps_words_and_hides_identifiers(string? key, string pattern) =>
        Assert.Equal(pattern, StorageOperationClassifier.Pattern(key));
}
