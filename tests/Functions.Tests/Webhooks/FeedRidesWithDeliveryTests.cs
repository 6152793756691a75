using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using ThreePL.Domain.Common;
using ThreePL.Functions.Events;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;
using ThreePL.Functions.Tests.Orders;
using ThreePL.Functions.Tests.Infrastructure;
using ThreePL.Functions.Webhooks;

namespace ThreePL.Functions.Tests.Webhooks;

/// <summary>
/// An account with a webhook destination for an event gets its catch-up feed rows in the insert of that delivery
/// (EventDispatcher): never lost when another copy of the work inserted the delivery without them, and written on
/// their own for an account without a destination and on a redelivery.
/// </summary>
[Collection("azurite")]
public sealed class FeedRidesWithDeliveryTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task The_owner_of_a_destination_gets_its_feed_rows_in_the_delivery_insert_and_the_other_account_on_its_own()
    {
        await using var setup = await SetUpAsync(azurite);
        var envelope = setup.Envelope();

        setup.Counter.Reset();
        await setup.Dispatcher.PublishAsync(envelope, redelivered: false, default);

        // Two writes in all: the other account's feed rows, and the delivery with its attempt and the owner's feed rows.
        Assert.Equal(2, setup.Counter.Get("table-batch"));
        Assert.Equal(0, setup.Counter.Get("table-insert") + setup.Counter.Get("table-update"));
        var ownerRows = await setup.RowsAsync(setup.Owner);
        Assert.Single(ownerRows, r => r.GetString("EventId") == envelope.Id && r.RowKey.StartsWith("dlv_", StringComparison.Ordinal));
        Assert.Single(ownerRows, r => r.GetString("EventId") == envelope.Id && r.RowKey.StartsWith("t|", StringComparison.Ordinal));
        Assert.Single(await setup.RowsAsync(setup.Other), r => r.GetString("EventId") == envelope.Id);
        Assert.Single(setup.Receiver.Hooks, h => h.Id == envelope.Id);
    }

    [Fact]
    public async Task A_carrier_delivery_another_copy_inserted_without_the_rows_still_leaves_them_in_the_feed()
    {
        await using var setup = await SetUpAsync(azurite);
        var envelope = setup.Envelope();
        // What a concurrent copy that chose no carrier for this owner would have stored: the delivery, no feed rows.
        var store = setup.App.Services.GetRequiredService<WebhookDeliveryStore>();
        var body = JsonSerializer.Serialize(new WebhookPayload(envelope.Id, envelope.Type, envelope.CreatedAt, envelope.Data), EventEnvelope.Json);
        var other = new WebhookDelivery(WebhookDeliveryStore.DeliveryId(envelope.Id, envelope.CreatedAt, setup.EndpointId), envelope.Id, envelope.Type, envelope.CreatedAt,
            body, setup.EndpointId, setup.Owner, null, DeliveryStatus.Succeeded, 1, 0, null, 200, envelope.CreatedAt, null, default);
        await store.CommitAttemptAsync(other, new WebhookAttempt(1, envelope.CreatedAt, setup.Receiver.HookUrl, 200, 1, null, null), default);
        Assert.DoesNotContain(await setup.RowsAsync(setup.Owner), r => r.GetString("EventId") == envelope.Id && !r.RowKey.StartsWith("dlv_", StringComparison.Ordinal));

        await setup.Dispatcher.PublishAsync(envelope, redelivered: false, default);

        Assert.Contains(await setup.RowsAsync(setup.Owner), r => r.GetString("EventId") == envelope.Id && r.RowKey.StartsWith("t|", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_redelivered_event_records_every_account_on_its_own_before_its_fan_out()
    {
        await using var setup = await SetUpAsync(azurite, receiverStatus: 503);
        var envelope = setup.Envelope();

        await setup.Dispatcher.PublishAsync(envelope, redelivered: true, default);

        var ownerRows = await setup.RowsAsync(setup.Owner);
        Assert.Single(ownerRows, r => r.GetString("EventId") == envelope.Id && r.RowKey.StartsWith("dlv_", StringComparison.Ordinal));
        Assert.Single(ownerRows, r => r.GetString("EventId") == envelope.Id && r.RowKey.StartsWith("t|", StringComparison.Ordinal));
        Assert.Single(await setup.RowsAsync(setup.Other), r => r.GetString("EventId") == envelope.Id);
    }

    [Fact]
    public async Task A_failed_first_attempt_whose_insert_is_sent_again_still_asks_for_its_second_attempt()
    {
        await using var setup = await SetUpAsync(azurite, receiverStatus: 503);
        // Only the owner: its delivery's insert is then the publication's first transaction, the one sent twice.
        var envelope = setup.Envelope() with { AccountIds = [setup.Owner.Value] };
        var retries = setup.App.Services.GetRequiredService<QueueServiceClient>().GetQueueClient(setup.App.Services.GetRequiredService<StorageNames>().Queue(DeliveryMessage.Queue));
        await retries.ClearMessagesAsync();

        setup.Replay.Armed = true;
        await setup.Dispatcher.PublishAsync(envelope, redelivered: false, default);

        Assert.Equal(1, setup.Replay.Replayed);
        var delivery = Assert.Single(await setup.RowsAsync(setup.Owner), r => r.GetString("EventId") == envelope.Id && r.RowKey.StartsWith("dlv_", StringComparison.Ordinal) && !r.RowKey.Contains('|', StringComparison.Ordinal));
        Assert.Equal(DeliveryStatus.Pending, delivery.GetString("Status"));
        Assert.Equal(2, delivery.GetInt32("Attempts") + 1);
        // The request for attempt 2, invisible until its retry delay (counted, not peeked).
        Assert.Equal(1, await retries.ApproximateCountAsync());
        Assert.Single(await setup.RowsAsync(setup.Owner), r => r.GetString("EventId") == envelope.Id && r.RowKey.StartsWith("t|", StringComparison.Ordinal));
    }

    private static async Task<Setup> SetUpAsync(AzuriteFixture azurite, int receiverStatus = 200)
    {
        var receiver = await TestReceiver.StartAsync((_, c) => TestReceiver.Status(c, receiverStatus));
        var counter = new StorageOperationCounter(azurite.QueuePort);
        var replay = new ReplayNextBatch();
        var app = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:Hosting:Listeners"] = "false", ["ThreePL:AllowInsecureWebhooks"] = "true" },
            s =>
            {
                s.AddSingleton(new StoragePolicy(counter));
                s.AddSingleton(new StoragePolicy(replay));
            });
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        using var tpl = app.WithKey(threePl.ApiKey);
        var endpoint = await ApiAssert.Json(await tpl.PostAsJsonAsync("/v1/webhook-endpoints", new { url = receiver.HookUrl, eventTypes = new[] { "connection.settings_updated" } }), HttpStatusCode.Created);
        var tables = app.Services.GetRequiredService<TableServiceClient>().GetTableClient(app.Services.GetRequiredService<StorageNames>().Table(EventFeed.TableName));
        // The owner's endpoints and destination health are read once here, so the measured publication reads nothing.
        await app.Services.GetRequiredService<EventDispatcher>().PublishAsync(new EventEnvelope("evt_warm_" + Guid.NewGuid().ToString("N"), "connection.settings_updated",
            DateTimeOffset.UtcNow, null, null, [threePl.Id], JsonSerializer.SerializeToElement(new { version = 1 })), redelivered: false, default);
        return new Setup(app, receiver, counter, replay, app.Services.GetRequiredService<EventDispatcher>(), tables,
            AccountId.Parse(threePl.Id), AccountId.Parse(merchant.Id), endpoint.GetProperty("id").GetString()!);
    }

    private sealed record Setup(TestApp App, TestReceiver Receiver, StorageOperationCounter Counter, ReplayNextBatch Replay, EventDispatcher Dispatcher, TableClient Events, AccountId Owner, AccountId Other, string EndpointId) : IAsyncDisposable
    {
        public EventEnvelope Envelope() => new(
            "evt_test_" + Guid.NewGuid().ToString("N"), "connection.settings_updated", DateTimeOffset.UtcNow, null, null,
            [Owner.Value, Other.Value], JsonSerializer.SerializeToElement(new { version = 2 }));

        public async Task<List<TableEntity>> RowsAsync(AccountId account)
        {
            var rows = new List<TableEntity>();
            await foreach (var row in Events.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {EventFeed.Partition(account)}")))
            {
                rows.Add(row);
            }
            return rows;
        }

        public async ValueTask DisposeAsync()
        {
            App.Dispose();
            await Receiver.DisposeAsync();
        }
    }
}
