using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using ThreePL.Domain.Common;
using ThreePL.Functions.Events;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Tests.Infrastructure;
using ThreePL.Functions.Webhooks;

namespace ThreePL.Functions.Tests.Webhooks;

/// <summary>
/// The delivery log as its owner's partition: a delivery's row is its log row, its attempts sort right after it, and
/// the deliveries written in the layout before (their own partition and a separate log row) keep being listed,
/// attempted and retried. The legacy rows here are written as that release wrote them.
/// </summary>
[Collection("azurite")]
public sealed class WebhookDeliveryLogTests(AzuriteFixture azurite)
{
    private const string Url = "https://example.com/hook";

    [Fact]
    public void Delivery_ids_are_opaque_identifiers_newest_first_and_the_same_for_the_same_event_and_destination()
    {
        var at = new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
        var id = WebhookDeliveryStore.DeliveryId("evt_1", at, "ep_00000000000000000000");

        Assert.True(WebhookTable.IsDeliveryId(id));
        Assert.Equal(id, WebhookDeliveryStore.DeliveryId("evt_1", at, "ep_00000000000000000000"));
        Assert.NotEqual(id, WebhookDeliveryStore.DeliveryId("evt_1", at, "ep_00000000000000000001"));
        Assert.NotEqual(id, WebhookDeliveryStore.DeliveryId("evt_2", at, "ep_00000000000000000000"));
        Assert.True(string.CompareOrdinal(WebhookDeliveryStore.DeliveryId("evt_2", at.AddMilliseconds(1), "ep_00000000000000000000"), id) < 0);
        Assert.True(string.CompareOrdinal(WebhookDeliveryStore.DeliveryId("evt_0", at.AddMilliseconds(-1), "ep_00000000000000000000"), id) > 0);
        Assert.True(WebhookTable.IsDeliveryId(WebhookDeliveryStore.DeliveryId("evt_1", DateTimeOffset.MinValue, "x")));
        Assert.True(WebhookTable.IsDeliveryId(WebhookDeliveryStore.DeliveryId("evt_1", DateTimeOffset.MaxValue, "x")));
    }

    [Fact]
    public void A_delivery_message_names_the_owners_partition_and_one_of_the_old_shape_reads_the_legacy_layout()
    {
        var owner = AccountId.New();
        var at = DateTimeOffset.UtcNow;
        var delivery = new WebhookDelivery(WebhookDeliveryStore.DeliveryId("evt_1", at, "ep_00000000000000000000"), "evt_1", "order.updated", at, "{}",
            "ep_00000000000000000000", owner, null, DeliveryStatus.Pending, 0, 0, at, null, null, null, default);

        var json = JsonSerializer.Serialize(DeliveryMessage.For(delivery, 2), Messaging.EventEnvelope.Json);
        Assert.Equal(["deliveryId", "attempt", "manual", "ownerAccountId"], JsonDocument.Parse(json).RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(owner, JsonSerializer.Deserialize<DeliveryMessage>(json, Messaging.EventEnvelope.Json)!.Owner);
        Assert.Null(DeliveryMessage.For(delivery with { Legacy = true }, 2).OwnerAccountId);
        var old = JsonSerializer.Deserialize<DeliveryMessage>($$"""{"deliveryId":"{{delivery.Id}}","attempt":3,"manual":true}""", Messaging.EventEnvelope.Json)!;
        Assert.Equal((delivery.Id, 3, true, (AccountId?)null), (old.DeliveryId, old.Attempt, old.Manual, old.Owner));
    }

    /// <summary>
    /// Four deliveries in the owner's partition (each inserted with its first attempt, as fan-out does) and two in the
    /// legacy layout, all paged through the API with limits that end pages inside the new rows, at the seam and inside
    /// the legacy rows.
    /// </summary>
    [Fact]
    public async Task The_log_reads_the_owners_partition_newest_first_with_attempts_then_the_legacy_rows()
    {
        var settings = new Dictionary<string, string?> { ["ThreePL:Hosting:Listeners"] = "false" };
        await using var app = new TestApp(azurite, settings);
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var connection = await Connect.ActiveAsync(app, threePl, merchant);
        var owner = AccountId.Parse(threePl.Id);
        var store = app.Services.GetRequiredService<WebhookDeliveryStore>();
        var table = app.Services.GetRequiredService<WebhookTable>().Client;
        var start = DateTimeOffset.UtcNow.AddHours(-1);

        var n1 = await NewAsync(store, owner, connection, connection, start.AddMinutes(10), [200]);
        var n2 = await NewAsync(store, owner, connection, connection, start.AddMinutes(20), [500, 500, 500], DeliveryStatus.Failed);
        var n3 = await NewAsync(store, owner, "ep_00000000000000000000", null, start.AddMinutes(30), [500, 500], DeliveryStatus.Pending);
        var n4 = await NewAsync(store, owner, connection, connection, start.AddMinutes(40), [204]);
        var l1 = await LegacyAsync(table, owner, connection, connection, start.AddMinutes(-10), DeliveryStatus.Failed, 2);
        var l2 = await LegacyAsync(table, owner, connection, connection, start.AddMinutes(-20), DeliveryStatus.Succeeded, 1);

        using var tpl = app.WithKey(threePl.ApiKey);
        var expected = new[] { (n4, 1), (n3, 2), (n2, 3), (n1, 1), (l1, 2), (l2, 1) };
        Assert.Equal(expected, await ListAllAsync(tpl, "limit=2"));
        Assert.Equal(expected, await ListAllAsync(tpl, "limit=3"));
        Assert.Equal(expected.Where(e => e.Item1 != n3), await ListAllAsync(tpl, $"limit=2&connectionId={connection}"));
        Assert.Equal([(n2, 3), (l1, 2)], await ListAllAsync(tpl, "limit=200&status=failed"));
        var before = TableClientExtensions.EncodePosition($"deliveries|{owner.Value} 0000000000000000001|{l1}");
        var stale = await ApiAssert.Json(await tpl.GetAsync($"/v1/webhook-deliveries?cursor={before}"), HttpStatusCode.OK);
        Assert.Equal((0, JsonValueKind.Null), (stale.GetProperty("items").GetArrayLength(), stale.GetProperty("nextCursor").ValueKind));

        var attempts = (await ApiAssert.Json(await tpl.GetAsync($"/v1/webhook-deliveries/{l1}"), HttpStatusCode.OK)).GetProperty("attempts");
        Assert.Equal([1, 2], attempts.EnumerateArray().Select(a => a.GetProperty("number").GetInt32()));
        Assert.Equal(3, (await ApiAssert.Json(await tpl.GetAsync($"/v1/webhook-deliveries/{n2}"), HttpStatusCode.OK)).GetProperty("attempts").GetArrayLength());

        // The window recover walks: by event time, across the seam.
        Assert.Equal([n4, n3, n2], (await store.ListAsync(owner, null, start.AddMinutes(15), null, 10, default)).Entries.Select(e => e.Delivery.Id));
        Assert.Equal([n4, n3, n2, n1, l1], (await store.ListAsync(owner, null, start.AddMinutes(-15), null, 10, default)).Entries.Select(e => e.Delivery.Id));

        // One partition holds a new delivery and its attempts, the owner's partition of the catch-up feed's table;
        // nothing is keyed by its id alone.
        var events = app.Services.GetRequiredService<TableServiceClient>().GetTableClient(app.Services.GetRequiredService<StorageNames>().Table(EventFeed.TableName));
        var rows = new List<string>();
        await foreach (var row in events.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {EventFeed.Partition(owner)} and RowKey ge {n4} and RowKey lt {n4 + "~"}")))
        {
            rows.Add(row.RowKey);
        }
        Assert.Equal([n4, n4 + "|attempt|00001"], rows);
        await foreach (var _ in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {n4}")))
        {
            Assert.Fail("A new delivery wrote a row in a partition of its own.");
        }

        using var other = app.WithKey(merchant.ApiKey);
        foreach (var id in new[] { n4, l1 })
        {
            await ApiAssert.Problem(await other.GetAsync($"/v1/webhook-deliveries/{id}"), HttpStatusCode.NotFound, "not_found");
            await ApiAssert.Problem(await other.PostAsync($"/v1/webhook-deliveries/{id}/retry", null), HttpStatusCode.NotFound, "not_found");
        }
        Assert.Empty(await ListAllAsync(other, "limit=2"));
    }

    /// <summary>
    /// A legacy delivery whose attempt 1 was asked for by a message of the old shape (no owner), and a dead legacy
    /// delivery retried by hand: both are attempted where they are, with the event id as <c>webhook-id</c>.
    /// </summary>
    [Fact]
    public async Task Deliveries_written_in_the_legacy_layout_are_still_attempted_and_retried()
    {
        await using var receiver = await TestReceiver.StartAsync();
        await using var app = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:Webhooks:RetrySchedule"] = "00:00:00.2" });
        var threePl = await Seed.AccountAsync(app, "threepl");
        var owner = AccountId.Parse(threePl.Id);
        using var tpl = app.WithKey(threePl.ApiKey);
        var endpoint = (await ApiAssert.Json(await tpl.PostAsJsonAsync("/v1/webhook-endpoints", new { url = receiver.HookUrl }), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        var table = app.Services.GetRequiredService<WebhookTable>().Client;
        var now = DateTimeOffset.UtcNow;

        var pending = await LegacyAsync(table, owner, endpoint, null, now.AddMinutes(-2), DeliveryStatus.Pending, 0);
        var queue = app.Services.GetRequiredService<QueueServiceClient>().GetQueueClient(app.Prefix + DeliveryMessage.Queue);
        await queue.SendMessageAsync($$"""{"deliveryId":"{{pending}}","attempt":1}""");
        var delivered = await Eventually.Get<JsonElement?>(async () =>
        {
            var d = await ApiAssert.Json(await tpl.GetAsync($"/v1/webhook-deliveries/{pending}"), HttpStatusCode.OK);
            return d.GetProperty("status").GetString() == DeliveryStatus.Succeeded ? d : null;
        }, "the legacy delivery attempted");
        Assert.Equal(1, delivered!.Value.GetProperty("attemptCount").GetInt32());

        var dead = await LegacyAsync(table, owner, endpoint, null, now.AddMinutes(-1), DeliveryStatus.Failed, 1);
        await ApiAssert.Json(await tpl.PostAsync($"/v1/webhook-deliveries/{dead}/retry", null), HttpStatusCode.Accepted);
        var retried = await Eventually.Get<JsonElement?>(async () =>
        {
            var d = await ApiAssert.Json(await tpl.GetAsync($"/v1/webhook-deliveries/{dead}"), HttpStatusCode.OK);
            return d.GetProperty("status").GetString() == DeliveryStatus.Succeeded ? d : null;
        }, "the legacy delivery retried");
        Assert.Equal([1, 2], retried!.Value.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("number").GetInt32()));
        Assert.NotNull(await table.FindAsync(dead, "attempt|00002"));

        Assert.Equal([delivered.Value.GetProperty("eventId").GetString(), retried.Value.GetProperty("eventId").GetString()], receiver.Hooks.Select(h => h.Id));
        Assert.Equal([(dead, 2), (pending, 1)], await ListAllAsync(tpl, "limit=1"));
    }

    /// <summary>A delivery inserted with its first attempt, then given the later attempts in <paramref name="statusCodes"/>.</summary>
    private static async Task<string> NewAsync(WebhookDeliveryStore store, AccountId owner, string destination, string? connectionId, DateTimeOffset at,
        int[] statusCodes, string final = DeliveryStatus.Succeeded)
    {
        var eventId = "evt_test_" + Guid.NewGuid().ToString("N");
        var delivery = new WebhookDelivery(WebhookDeliveryStore.DeliveryId(eventId, at, destination), eventId, "order.updated", at, "{}", destination, owner,
            connectionId, DeliveryStatus.Pending, 0, 0, at, null, null, null, default);
        for (var n = 1; n <= statusCodes.Length; n++)
        {
            var updated = delivery with
            {
                Attempts = n, LastStatusCode = statusCodes[n - 1], LastAttemptAt = at,
                Status = n == statusCodes.Length ? final : DeliveryStatus.Pending,
            };
            var etag = await store.CommitAttemptAsync(updated, new WebhookAttempt(n, at, Url, statusCodes[n - 1], 3, null, null), default);
            delivery = updated with { ETag = etag };
        }
        return delivery.Id;
    }

    /// <summary>A delivery as releases before December 2026 stored it: its own partition, and a log row written first.</summary>
    private static async Task<string> LegacyAsync(TableClient table, AccountId owner, string destination, string? connectionId, DateTimeOffset at, string status, int attempts)
    {
        var eventId = "evt_legacy_" + Guid.NewGuid().ToString("N");
        const string alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(eventId + "|" + destination));
        var id = "dlv_" + string.Concat(hash.Take(20).Select(b => alphabet[b & 31]));
        var inverted = (DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks).ToString("D19", CultureInfo.InvariantCulture);
        await table.AddEntityAsync(new TableEntity($"deliveries|{owner.Value}", $"{inverted}|{id}")
        {
            ["DeliveryId"] = id,
            ["Destination"] = destination,
            ["ConnectionId"] = connectionId,
            ["EventType"] = "order.updated",
        });
        var body = JsonSerializer.Serialize(new { id = eventId, type = "order.updated", createdAt = at, data = new { version = 1 } });
        await table.AddEntityAsync(new TableEntity(id, "delivery")
        {
            ["EventId"] = eventId,
            ["EventType"] = "order.updated",
            ["EventCreatedAt"] = at,
            ["Destination"] = destination,
            ["OwnerAccountId"] = owner.Value,
            ["ConnectionId"] = connectionId,
            ["Status"] = status,
            ["Attempts"] = attempts,
            ["RoundStart"] = 0,
            ["NextAttemptAt"] = status == DeliveryStatus.Pending ? at : null,
            ["LastStatusCode"] = attempts > 0 ? 500 : null,
            ["LastAttemptAt"] = attempts > 0 ? at : null,
            ["FailureReason"] = status == DeliveryStatus.Failed ? "retries_exhausted" : null,
            ["Body"] = body,
        });
        for (var n = 1; n <= attempts; n++)
        {
            await table.AddEntityAsync(new TableEntity(id, $"attempt|{n:D5}")
            {
                ["At"] = at,
                ["Url"] = Url,
                ["StatusCode"] = 500,
                ["LatencyMs"] = 3L,
                ["Response"] = "boom",
            });
        }
        return id;
    }

    /// <summary>Every page of the log: each delivery's id and how many attempts it lists.</summary>
    private static async Task<List<(string Id, int Attempts)>> ListAllAsync(HttpClient client, string query)
    {
        var all = new List<(string, int)>();
        string? cursor = null;
        do
        {
            var page = await ApiAssert.Json(await client.GetAsync($"/v1/webhook-deliveries?{query}" + (cursor is null ? "" : $"&cursor={cursor}")), HttpStatusCode.OK);
            foreach (var item in page.GetProperty("items").EnumerateArray())
            {
                var attempts = item.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("number").GetInt32()).ToList();
                Assert.Equal(Enumerable.Range(1, attempts.Count), attempts);
                all.Add((item.GetProperty("id").GetString()!, attempts.Count));
            }
            cursor = page.GetProperty("nextCursor") is { ValueKind: JsonValueKind.String } next ? next.GetString() : null;
        }
        while (cursor is not null);
        return all;
    }
}
