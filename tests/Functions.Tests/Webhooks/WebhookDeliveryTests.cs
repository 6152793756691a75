using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using ThreePL.Domain.Common;
using ThreePL.Functions.Events;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;
using ThreePL.Functions.Tests.Infrastructure;
using ThreePL.Functions.Webhooks;

namespace ThreePL.Functions.Tests.Webhooks;

/// <summary>
/// Delivery against a real local receiver, with the retry schedule shrunk through options. Events come from
/// real connection transitions (account endpoints) or are put on the internal events queue (order events).
/// </summary>
[Collection("azurite")]
public sealed class WebhookDeliveryTests(AzuriteFixture azurite)
{
    private static Dictionary<string, string?> Settings(string schedule = "00:00:00.2,00:00:00.2,00:00:00.2,00:00:00.2,00:00:00.2", string timeout = "00:00:10", string disableAfter = "5.00:00:00") => new()
    {
        ["ThreePL:Webhooks:RetrySchedule"] = schedule,
        ["ThreePL:Webhooks:Timeout"] = timeout,
        ["ThreePL:Webhooks:DisableAfter"] = disableAfter,
        ["ThreePL:Webhooks:MaxRetryAfter"] = "00:00:02",
    };

    private sealed record Scenario(TestApp App, SeededAccount ThreePl, SeededAccount Merchant, string ConnectionId, HttpClient Tpl) : IAsyncDisposable
    {
        public async Task<(string Id, string Secret)> EndpointAsync(string url, params string[] types)
        {
            var created = await ApiAssert.Json(await Tpl.PostAsJsonAsync("/v1/webhook-endpoints", new { url, eventTypes = types }), HttpStatusCode.Created);
            return (created.GetProperty("id").GetString()!, created.GetProperty("secret").GetString()!);
        }

        public async Task DeactivateAsync() =>
            await ApiAssert.Json(await Tpl.PostAsync($"/v1/connections/{ConnectionId}/deactivate", null), HttpStatusCode.OK);

        public async Task ReactivateAsync() =>
            await ApiAssert.Json(await Tpl.PostAsync($"/v1/connections/{ConnectionId}/reactivate", null), HttpStatusCode.OK);

        public async Task<JsonElement> DeliveriesAsync(string? status = null) =>
            (await ApiAssert.Json(await Tpl.GetAsync($"/v1/webhook-deliveries?connectionId={ConnectionId}" + (status is null ? "" : $"&status={status}")), HttpStatusCode.OK)).GetProperty("items");

        public Task<JsonElement> WaitForDeliveryAsync(string eventType, string status, int? attempts = null) =>
            Eventually.Get<JsonElement?>(async () =>
            {
                foreach (var d in (await DeliveriesAsync()).EnumerateArray())
                {
                    if (d.GetProperty("eventType").GetString() == eventType && d.GetProperty("status").GetString() == status
                        && (attempts is null || d.GetProperty("attemptCount").GetInt32() == attempts))
                    {
                        return d;
                    }
                }
                return null;
            }, $"a {status} {eventType} delivery").ContinueWith(t => t.Result!.Value, TaskScheduler.Default);

        public async Task PublishAsync(EventEnvelope envelope)
        {
            var queues = App.Services.GetRequiredService<QueueServiceClient>();
            var names = App.Services.GetRequiredService<StorageNames>();
            await queues.GetQueueClient(names.Queue(EventEnvelope.Queue)).SendMessageAsync(JsonSerializer.Serialize(envelope, EventEnvelope.Json));
        }

        public EventEnvelope OrderEvent(string type, int version) => new(
            "evt_test_" + Guid.NewGuid().ToString("N"), type, DateTimeOffset.UtcNow, ConnectionId, "ord_test",
            [ThreePl.Id, Merchant.Id], JsonSerializer.SerializeToElement(new { id = "ord_test", status = "awaiting_shipment", version }));

        public async ValueTask DisposeAsync()
        {
            Tpl.Dispose();
            await App.DisposeAsync();
        }
    }

    private async Task<Scenario> StartAsync(Dictionary<string, string?> settings)
    {
        var app = new TestApp(azurite, settings);
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var connection = await Connect.ActiveAsync(app, threePl, merchant);
        return new Scenario(app, threePl, merchant, connection, app.WithKey(threePl.ApiKey));
    }

    /// <summary>
    /// Recovery names a destination the caller owns: an endpoint id of no endpoint of the account is 404; a key scoped
    /// to a connection recovers that connection only, so an endpoint (account-wide) or another connection is 403
    /// <c>scoped_key_not_allowed</c>. Each answer goes through the contract check of the test client, so each is declared.
    /// </summary>
    [Fact]
    public async Task Recovery_of_an_unknown_endpoint_is_404_and_a_scoped_key_recovers_only_its_connection()
    {
        await using var s = await StartAsync(Settings());
        var since = DateTimeOffset.UtcNow.AddMinutes(-5);
        await ApiAssert.Problem(await s.Tpl.PostAsJsonAsync("/v1/webhook-deliveries/recover", new { endpointId = "ep_00000000000000000000", since }), HttpStatusCode.NotFound, "not_found");
        var scopedKey = (await ApiAssert.Json(await s.Tpl.PostAsJsonAsync("/v1/api-keys", new { name = "wms", permissions = new[] { "*" }, connectionId = s.ConnectionId }), HttpStatusCode.Created))
            .GetProperty("key").GetString()!;
        using var scoped = s.App.WithKey(scopedKey);
        await ApiAssert.Problem(await scoped.PostAsJsonAsync("/v1/webhook-deliveries/recover", new { endpointId = "ep_00000000000000000000", since }), HttpStatusCode.Forbidden, "scoped_key_not_allowed");
        await ApiAssert.Problem(await scoped.PostAsJsonAsync("/v1/webhook-deliveries/recover", new { connectionId = "con_00000000000000000000", since }), HttpStatusCode.Forbidden, "scoped_key_not_allowed");
        var own = await ApiAssert.Json(await scoped.PostAsJsonAsync("/v1/webhook-deliveries/recover", new { connectionId = s.ConnectionId, since }), HttpStatusCode.Accepted);
        Assert.Equal(0, own.GetProperty("retried").GetInt32());
    }

    private static void AssertSigned(ReceivedWebhook hook, params string[] secrets)
    {
        foreach (var secret in secrets)
        {
            Assert.True(StandardWebhooksVerifier.Verify(secret, hook.Id!, hook.Timestamp!, hook.Body, hook.Signature!, DateTimeOffset.UtcNow),
                $"Signature '{hook.Signature}' does not verify with one of the secrets.");
        }
    }

    [Fact]
    public async Task An_account_endpoint_gets_a_signed_standard_webhook_and_the_attempt_is_logged()
    {
        await using var receiver = await TestReceiver.StartAsync((_, c) => TestReceiver.Status(c, 200, "thanks"));
        await using var s = await StartAsync(Settings());
        var (endpointId, secret) = await s.EndpointAsync(receiver.HookUrl, "connection.deactivated");
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        var listed = await ApiAssert.Json(await s.Tpl.GetAsync("/v1/webhook-endpoints"), HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Null, listed.GetProperty("items")[0].GetProperty("secret").ValueKind);

        await s.DeactivateAsync();
        var delivery = await s.WaitForDeliveryAsync("connection.deactivated", "succeeded");
        var hook = Assert.Single(receiver.Hooks);
        AssertSigned(hook, secret);
        Assert.False(StandardWebhooksVerifier.Verify(WebhookSecret.Create(), hook.Id!, hook.Timestamp!, hook.Body, hook.Signature!, DateTimeOffset.UtcNow));
        var body = JsonDocument.Parse(hook.Body).RootElement;
        Assert.Equal(hook.Id, body.GetProperty("id").GetString());
        Assert.Equal("connection.deactivated", body.GetProperty("type").GetString());
        Assert.Equal(s.ConnectionId, body.GetProperty("data").GetProperty("id").GetString());
        Assert.Equal("inactive", body.GetProperty("data").GetProperty("status").GetString());
        Assert.True(body.TryGetProperty("createdAt", out _));

        Assert.Equal(endpointId, delivery.GetProperty("endpointId").GetString());
        Assert.Equal(hook.Id, delivery.GetProperty("eventId").GetString());
        var attempt = Assert.Single(delivery.GetProperty("attempts").EnumerateArray());
        Assert.Equal(200, attempt.GetProperty("statusCode").GetInt32());
        Assert.Equal("thanks", attempt.GetProperty("response").GetString());
        Assert.True(attempt.GetProperty("latencyMs").GetInt64() >= 0);

        // The first attempt's insert is the only write: the delivery with its attempt, in the owner's partition of the
        // catch-up feed, next to the feed's rows of the event (they rode in that insert); no log row, no partition of its own.
        var id = delivery.GetProperty("id").GetString()!;
        var owner = AccountId.Parse(s.ThreePl.Id);
        var events = s.App.Services.GetRequiredService<TableServiceClient>().GetTableClient(s.App.Services.GetRequiredService<StorageNames>().Table(EventFeed.TableName));
        var rows = new List<Azure.Data.Tables.TableEntity>();
        await foreach (var row in events.QueryAsync<Azure.Data.Tables.TableEntity>(Azure.Data.Tables.TableClient.CreateQueryFilter($"PartitionKey eq {EventFeed.Partition(owner)}")))
        {
            rows.Add(row);
        }
        Assert.Equal([id, id + "|attempt|00001"], rows.Where(r => r.RowKey.StartsWith("dlv_", StringComparison.Ordinal)).Select(r => r.RowKey));
        Assert.Equal(["c|", "t|"], rows.Where(r => r.GetString("EventId") == hook.Id && !r.RowKey.StartsWith("dlv_", StringComparison.Ordinal)).Select(r => r.RowKey[..2]).Order());
        var legacy = s.App.Services.GetRequiredService<WebhookTable>().Client;
        await foreach (var row in legacy.QueryAsync<Azure.Data.Tables.TableEntity>(Azure.Data.Tables.TableClient.CreateQueryFilter($"PartitionKey eq {"deliveries|" + s.ThreePl.Id} or PartitionKey eq {id}")))
        {
            Assert.Fail($"A new delivery wrote {row.PartitionKey}/{row.RowKey} in the legacy layout.");
        }
    }

    [Fact]
    public async Task Delivery_survives_errors_timeouts_redirects_and_retry_after_then_succeeds_with_one_attempt_row_per_try()
    {
        await using var receiver = await TestReceiver.StartAsync(async (n, c) =>
        {
            switch (n)
            {
                case 1:
                    await TestReceiver.Status(c, 500, new string('x', 5000));
                    break;
                case 2:
                    await Task.Delay(TimeSpan.FromSeconds(3), c.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                    break;
                case 3:
                    c.Response.StatusCode = 302;
                    c.Response.Headers.Location = "/elsewhere";
                    break;
                case 4:
                    c.Response.StatusCode = 503;
                    c.Response.Headers.RetryAfter = "1";
                    break;
                default:
                    c.Response.StatusCode = 204;
                    break;
            }
        });
        await using var s = await StartAsync(Settings(timeout: "00:00:01"));
        // Only this event: the connection's earlier events may still be in flight and would take scripted answers.
        var (_, secret) = await s.EndpointAsync(receiver.HookUrl, "connection.deactivated");
        await s.DeactivateAsync();

        var delivery = await s.WaitForDeliveryAsync("connection.deactivated", "succeeded");
        var hooks = receiver.Hooks;
        Assert.Equal(5, hooks.Count);
        Assert.Single(hooks.Select(h => h.Id).Distinct());
        foreach (var hook in hooks)
        {
            AssertSigned(hook, secret);
        }
        Assert.DoesNotContain(receiver.Received, r => r.Path == "/elsewhere");
        Assert.True(hooks[4].At - hooks[3].At >= TimeSpan.FromSeconds(0.9), "Retry-After: 1 was not honoured.");
        var attempts = delivery.GetProperty("attempts").EnumerateArray().ToList();
        Assert.Equal([1, 2, 3, 4, 5], attempts.Select(a => a.GetProperty("number").GetInt32()));
        Assert.Equal<int?>([500, null, 302, 503, 204], attempts.Select(a => a.GetProperty("statusCode").ValueKind == JsonValueKind.Null ? (int?)null : a.GetProperty("statusCode").GetInt32()));
        Assert.Equal(1024, attempts[0].GetProperty("response").GetString()!.Length);
        Assert.Contains("Timed out", attempts[1].GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_delivery_is_dead_after_the_schedule_and_a_manual_retry_delivers_it_with_the_same_id()
    {
        var recovered = false;
        await using var receiver = await TestReceiver.StartAsync((_, c) => TestReceiver.Status(c, Volatile.Read(ref recovered) ? 200 : 500));
        await using var s = await StartAsync(Settings(schedule: "00:00:00.2,00:00:00.2"));
        await s.EndpointAsync(receiver.HookUrl);
        await s.DeactivateAsync();

        var dead = await s.WaitForDeliveryAsync("connection.deactivated", "failed");
        Assert.Equal("retries_exhausted", dead.GetProperty("failureReason").GetString());
        Assert.Equal(3, dead.GetProperty("attempts").GetArrayLength());
        Assert.Equal(3, receiver.Hooks.Count(h => JsonDocument.Parse(h.Body).RootElement.GetProperty("type").GetString() == "connection.deactivated"));

        Volatile.Write(ref recovered, true);
        var id = dead.GetProperty("id").GetString()!;
        var accepted = await ApiAssert.Json(await s.Tpl.PostAsync($"/v1/webhook-deliveries/{id}/retry", null), HttpStatusCode.Accepted);
        Assert.Equal("pending", accepted.GetProperty("status").GetString());
        var done = await s.WaitForDeliveryAsync("connection.deactivated", "succeeded");
        Assert.Equal(4, done.GetProperty("attempts").GetArrayLength());
        Assert.Single(receiver.Hooks.Where(h => JsonDocument.Parse(h.Body).RootElement.GetProperty("type").GetString() == "connection.deactivated").Select(h => h.Id).Distinct());
        await ApiAssert.Problem(await s.Tpl.PostAsync("/v1/webhook-deliveries/dlv_00000000000000000000/retry", null), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Gone_disables_the_endpoint_kills_the_delivery_and_says_so_in_an_event()
    {
        await using var gone = await TestReceiver.StartAsync((_, c) => TestReceiver.Status(c, 410));
        await using var watcher = await TestReceiver.StartAsync();
        await using var s = await StartAsync(Settings());
        var (goneId, _) = await s.EndpointAsync(gone.HookUrl, "connection.deactivated", "connection.reactivated");
        var (_, watcherSecret) = await s.EndpointAsync(watcher.HookUrl, WebhookFanOut.EndpointDisabledType);
        await s.DeactivateAsync();

        var dead = await s.WaitForDeliveryAsync("connection.deactivated", "failed");
        Assert.Equal("gone", dead.GetProperty("failureReason").GetString());
        Assert.Single(dead.GetProperty("attempts").EnumerateArray());
        var endpoint = await ApiAssert.Json(await s.Tpl.GetAsync($"/v1/webhook-endpoints/{goneId}"), HttpStatusCode.OK);
        Assert.True(endpoint.GetProperty("disabled").GetBoolean());

        await Eventually.True(() => Task.FromResult(!watcher.Hooks.IsEmpty()), "the endpoint-disabled event");
        var notice = JsonDocument.Parse(watcher.Hooks[0].Body).RootElement;
        Assert.Equal(WebhookFanOut.EndpointDisabledType, notice.GetProperty("type").GetString());
        Assert.Equal(goneId, notice.GetProperty("data").GetProperty("endpointId").GetString());
        AssertSigned(watcher.Hooks[0], watcherSecret);

        await s.ReactivateAsync();
        var skipped = await s.WaitForDeliveryAsync("connection.reactivated", "failed");
        Assert.Equal("destination_disabled", skipped.GetProperty("failureReason").GetString());
        Assert.Empty(skipped.GetProperty("attempts").EnumerateArray());
        Assert.Single(gone.Hooks);
    }

    [Fact]
    public async Task An_endpoint_failing_continuously_for_the_window_is_disabled()
    {
        await using var receiver = await TestReceiver.StartAsync((_, c) => TestReceiver.Status(c, 500));
        await using var s = await StartAsync(Settings(schedule: string.Join(',', Enumerable.Repeat("00:00:00.5", 20)), disableAfter: "00:00:02"));
        var (id, _) = await s.EndpointAsync(receiver.HookUrl, "connection.deactivated");
        await s.DeactivateAsync();
        var dead = await s.WaitForDeliveryAsync("connection.deactivated", "failed");
        Assert.Equal("destination_disabled", dead.GetProperty("failureReason").GetString());
        Assert.InRange(dead.GetProperty("attempts").GetArrayLength(), 2, 10);
        var endpoint = await ApiAssert.Json(await s.Tpl.GetAsync($"/v1/webhook-endpoints/{id}"), HttpStatusCode.OK);
        Assert.True(endpoint.GetProperty("disabled").GetBoolean());
        Assert.StartsWith("Every attempt has failed", endpoint.GetProperty("disabledReason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Order_events_go_to_the_connection_url_signed_with_every_valid_secret()
    {
        await using var receiver = await TestReceiver.StartAsync();
        await using var everything = await TestReceiver.StartAsync();
        await using var s = await StartAsync(Settings());
        await s.EndpointAsync(everything.HookUrl);
        var settings = await ApiAssert.Json(await s.Tpl.PatchJson($"/v1/connections/{s.ConnectionId}/settings", new { webhookUrl = receiver.HookUrl }), HttpStatusCode.OK);
        var first = settings.GetProperty("webhookSecret").GetString()!;

        await s.PublishAsync(s.OrderEvent("order.updated", 3));
        await Eventually.True(() => Task.FromResult(receiver.Hooks.Count == 1), "the order webhook");
        AssertSigned(receiver.Hooks[0], first);
        Assert.Equal(3, JsonDocument.Parse(receiver.Hooks[0].Body).RootElement.GetProperty("data").GetProperty("version").GetInt32());

        var rotated = await ApiAssert.Json(await s.Tpl.PostAsync($"/v1/connections/{s.ConnectionId}/webhook-secret", null), HttpStatusCode.Created);
        var second = rotated.GetProperty("secret").GetString()!;
        await s.PublishAsync(s.OrderEvent("order.shipped", 4));
        await Eventually.True(() => Task.FromResult(receiver.Hooks.Count == 2), "the second order webhook");
        Assert.Equal(2, receiver.Hooks[1].Signature!.Split(' ').Length);
        AssertSigned(receiver.Hooks[1], first, second);

        await Eventually.True(() => Task.FromResult(everything.Hooks.Count(h => h.Body.Contains("\"order.", StringComparison.Ordinal)) == 2), "both order events at the account endpoint");
        var deliveries = await s.DeliveriesAsync();
        Assert.Contains(deliveries.EnumerateArray(), d => d.GetProperty("eventType").GetString() == "order.updated" && d.GetProperty("endpointId").ValueKind == JsonValueKind.Null);
    }

    [Fact]
    public async Task A_worker_that_dies_mid_delivery_loses_nothing_and_the_next_one_resends_the_same_id()
    {
        var firstArrived = new TaskCompletionSource();
        await using var receiver = await TestReceiver.StartAsync(async (n, c) =>
        {
            if (n == 1)
            {
                firstArrived.TrySetResult();
                await Task.Delay(TimeSpan.FromSeconds(30), c.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                return;
            }
            c.Response.StatusCode = 200;
        });
        var settings = Settings(timeout: "00:00:02");
        settings["AzureFunctionsJobHost:extensions:queues:messageLease"] = "00:00:03";
        var s = await StartAsync(settings);
        var (_, secret) = await s.EndpointAsync(receiver.HookUrl, "connection.deactivated");
        await s.DeactivateAsync();
        await firstArrived.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var prefix = s.App.Prefix;
        await s.DisposeAsync();

        settings["ThreePL:Storage:Prefix"] = prefix;
        await using var revived = new TestApp(azurite, settings);
        using var tpl = revived.WithKey(s.ThreePl.ApiKey);
        var done = await Eventually.Get<JsonElement?>(async () =>
        {
            var items = (await ApiAssert.Json(await tpl.GetAsync("/v1/webhook-deliveries?status=succeeded"), HttpStatusCode.OK)).GetProperty("items");
            return items.GetArrayLength() == 1 ? items[0] : null;
        }, "the delivery after the restart");
        Assert.Equal(2, receiver.Hooks.Count);
        Assert.Equal(receiver.Hooks[0].Id, receiver.Hooks[1].Id);
        AssertSigned(receiver.Hooks[1], secret);
        Assert.Single(done!.Value.GetProperty("attempts").EnumerateArray());
    }

    [Fact]
    public async Task A_worker_that_dies_between_recording_an_attempt_and_scheduling_the_next_is_healed_by_the_redelivered_message()
    {
        await using var receiver = await TestReceiver.StartAsync();
        var settings = Settings();
        settings["ThreePL:Hosting:Listeners"] = "false";
        var s = await StartAsync(settings);
        var (endpointId, _) = await s.EndpointAsync(receiver.HookUrl, "order.*");
        var store = s.App.Services.GetRequiredService<WebhookDeliveryStore>();
        var eventId = "evt_test_" + Guid.NewGuid().ToString("N");
        var createdAt = DateTimeOffset.UtcNow;
        var body = JsonSerializer.Serialize(new WebhookPayload(eventId, "order.updated", createdAt, JsonSerializer.SerializeToElement(new { version = 1 })), EventEnvelope.Json);
        var (created, _) = await store.CreateDeliveryAsync(new WebhookDelivery(WebhookDeliveryStore.DeliveryId(eventId, createdAt, endpointId), eventId, "order.updated", createdAt, body, endpointId,
            Domain.Common.AccountId.Parse(s.ThreePl.Id), s.ConnectionId, DeliveryStatus.Pending, 0, 0, DateTimeOffset.UtcNow, null, null, null, default), default);
        var queue = s.App.Services.GetRequiredService<QueueServiceClient>().GetQueueClient(s.App.Prefix + DeliveryMessage.Queue);
        await queue.SendMessageAsync(JsonSerializer.Serialize(DeliveryMessage.For(created, 1), EventEnvelope.Json));

        // The dying worker took attempt 1's message, recorded a failed attempt 1, and died before enqueuing attempt 2.
        Assert.Single((await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(1))).Value);
        await store.CommitAttemptAsync(created with { Attempts = 1, LastStatusCode = 500, LastAttemptAt = DateTimeOffset.UtcNow },
            new WebhookAttempt(1, DateTimeOffset.UtcNow, receiver.HookUrl, 500, 3, "boom", null), default);
        var prefix = s.App.Prefix;
        await s.DisposeAsync();

        settings["ThreePL:Hosting:Listeners"] = "true";
        await using var revived = new TestApp(azurite, settings, prefix: prefix);
        using var tpl = revived.WithKey(s.ThreePl.ApiKey);
        var done = await Eventually.Get<JsonElement?>(async () =>
        {
            var items = (await ApiAssert.Json(await tpl.GetAsync("/v1/webhook-deliveries?status=succeeded"), HttpStatusCode.OK)).GetProperty("items");
            return items.GetArrayLength() == 1 ? items[0] : null;
        }, "the healed delivery");
        Assert.Equal([1, 2], done!.Value.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("number").GetInt32()));
        Assert.Equal(eventId, Assert.Single(receiver.Hooks).Id);
    }

    [Fact]
    public async Task A_fan_out_that_dies_between_recording_the_first_attempt_and_scheduling_the_second_is_healed_by_the_redelivered_event()
    {
        await using var receiver = await TestReceiver.StartAsync();
        var s = await StartAsync(Settings());
        var (endpointId, _) = await s.EndpointAsync(receiver.HookUrl, "order.*");
        var envelope = s.OrderEvent("order.updated", 1);
        var store = s.App.Services.GetRequiredService<WebhookDeliveryStore>();
        var body = JsonSerializer.Serialize(new WebhookPayload(envelope.Id, envelope.Type, envelope.CreatedAt, envelope.Data), EventEnvelope.Json);
        var now = DateTimeOffset.UtcNow;

        // What the creating fan-out left: its claimed insert, then attempt 1 recorded as failed with a retry due, and no
        // message asking for attempt 2 (it died first).
        var (created, _) = await store.CreateDeliveryAsync(new WebhookDelivery(WebhookDeliveryStore.DeliveryId(envelope.Id, envelope.CreatedAt, endpointId), envelope.Id, envelope.Type, envelope.CreatedAt, body,
            endpointId, Domain.Common.AccountId.Parse(s.ThreePl.Id), s.ConnectionId, DeliveryStatus.Pending, 0, 0, now, null, null, null, default)
        { InFlightAttempt = 1, InFlightUntil = now.AddSeconds(15) }, default);
        await store.CommitAttemptAsync(created with { Attempts = 1, LastStatusCode = 500, LastAttemptAt = now, NextAttemptAt = now.AddMilliseconds(200), InFlightAttempt = null, InFlightUntil = null },
            new WebhookAttempt(1, now, receiver.HookUrl, 500, 3, "boom", null), default);

        await s.App.Services.GetRequiredService<IEventPublisher>().PublishAsync(envelope, redelivered: true, CancellationToken.None);

        var done = await s.WaitForDeliveryAsync("order.updated", "succeeded");
        Assert.Equal(2, done.GetProperty("attemptCount").GetInt32());
        Assert.Equal(envelope.Id, Assert.Single(receiver.Hooks).Id);
    }

    [Fact]
    public async Task Duplicate_messages_for_one_attempt_make_one_request_and_start_no_second_chain()
    {
        var firstArrived = new TaskCompletionSource();
        await using var receiver = await TestReceiver.StartAsync(async (n, c) =>
        {
            if (n == 1)
            {
                firstArrived.TrySetResult();
                await Task.Delay(TimeSpan.FromSeconds(1.5), c.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                c.Response.StatusCode = 500;
                return;
            }
            c.Response.StatusCode = 204;
        });
        await using var s = await StartAsync(Settings());
        var (endpointId, _) = await s.EndpointAsync(receiver.HookUrl, "connection.deactivated");
        await s.DeactivateAsync();
        await firstArrived.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var store = s.App.Services.GetRequiredService<WebhookDeliveryStore>();
        var queue = s.App.Services.GetRequiredService<QueueServiceClient>().GetQueueClient(s.App.Prefix + DeliveryMessage.Queue);
        var owner = Domain.Common.AccountId.Parse(s.ThreePl.Id);
        var createdAt = JsonDocument.Parse(receiver.Hooks[0].Body).RootElement.GetProperty("createdAt").GetDateTimeOffset();
        var pending = WebhookDeliveryStore.DeliveryId(receiver.Hooks[0].Id!, createdAt, endpointId);

        // While attempt 1 is in flight (sent before the delivery is stored), and again after it is recorded,
        // duplicates of its message arrive.
        await queue.SendMessageAsync(JsonSerializer.Serialize(new DeliveryMessage(pending, 1, OwnerAccountId: owner.Value), EventEnvelope.Json));
        var done = await s.WaitForDeliveryAsync("connection.deactivated", "succeeded");
        await queue.SendMessageAsync(JsonSerializer.Serialize(new DeliveryMessage(pending, 1, OwnerAccountId: owner.Value), EventEnvelope.Json));
        await queue.SendMessageAsync(JsonSerializer.Serialize(new DeliveryMessage(pending, 2, OwnerAccountId: owner.Value), EventEnvelope.Json));
        await Eventually.True(async () => await queue.ApproximateCountAsync() == 0, "the duplicates to be consumed");

        Assert.Equal(2, receiver.Hooks.Count);
        Assert.Equal([1, 2], done.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("number").GetInt32()));
        Assert.Equal(2, (await store.GetDeliveryAsync(owner, pending, default))!.Attempts);
    }

    [Fact]
    public async Task Recover_resends_every_failed_delivery_of_an_endpoint_since_a_time()
    {
        var recovered = false;
        await using var receiver = await TestReceiver.StartAsync((_, c) => TestReceiver.Status(c, Volatile.Read(ref recovered) ? 200 : 503));
        await using var s = await StartAsync(Settings(schedule: "00:00:00.1"));
        var since = DateTimeOffset.UtcNow;
        var (id, _) = await s.EndpointAsync(receiver.HookUrl, "connection.deactivated", "connection.reactivated");
        await s.DeactivateAsync();
        await s.ReactivateAsync();
        await s.WaitForDeliveryAsync("connection.deactivated", "failed");
        await s.WaitForDeliveryAsync("connection.reactivated", "failed");

        Volatile.Write(ref recovered, true);
        var result = await ApiAssert.Json(await s.Tpl.PostAsJsonAsync("/v1/webhook-deliveries/recover", new { endpointId = id, since }), HttpStatusCode.Accepted);
        Assert.Equal(2, result.GetProperty("retried").GetInt32());
        await s.WaitForDeliveryAsync("connection.deactivated", "succeeded", attempts: 3);
        await s.WaitForDeliveryAsync("connection.reactivated", "succeeded", attempts: 3);
    }

    [Fact]
    public async Task Endpoints_need_the_permission_a_public_https_url_and_valid_filters()
    {
        await using var s = await StartAsync(Settings());
        await ApiAssert.Problem(await s.Tpl.PostAsJsonAsync("/v1/webhook-endpoints", new { url = "http://10.0.0.1/hook" }), HttpStatusCode.BadRequest, "validation_failed");
        await ApiAssert.Problem(await s.Tpl.PostAsJsonAsync("/v1/webhook-endpoints", new { url = "https://169.254.169.254/latest" }), HttpStatusCode.BadRequest, "validation_failed");
        await ApiAssert.Problem(await s.Tpl.PostAsJsonAsync("/v1/webhook-endpoints", new { url = "https://example.com/x", eventTypes = new[] { "Order Updated" } }), HttpStatusCode.BadRequest, "validation_failed");
        await ApiAssert.Problem(await s.Tpl.GetAsync("/v1/webhook-deliveries?status=lost"), HttpStatusCode.BadRequest, "validation_failed");

        using var admin = s.App.WithKey(s.ThreePl.ApiKey);
        var limited = await ApiAssert.Json(await admin.PostAsJsonAsync("/v1/api-keys", new { name = "read", permissions = new[] { "connections:read" } }), HttpStatusCode.Created);
        using var reader = s.App.WithKey(limited.GetProperty("key").GetString()!);
        await ApiAssert.Problem(await reader.GetAsync("/v1/webhook-endpoints"), HttpStatusCode.Forbidden, "missing_permission");

        var created = await ApiAssert.Json(await s.Tpl.PostAsJsonAsync("/v1/webhook-endpoints", new { url = "http://127.0.0.1:9/hook", eventTypes = new[] { "order.*" } }), HttpStatusCode.Created);
        var id = created.GetProperty("id").GetString()!;
        using var other = s.App.WithKey(s.Merchant.ApiKey);
        await ApiAssert.Problem(await other.GetAsync($"/v1/webhook-endpoints/{id}"), HttpStatusCode.NotFound, "not_found");
        await ApiAssert.Problem(await other.DeleteAsync($"/v1/webhook-endpoints/{id}"), HttpStatusCode.NotFound, "not_found");
        Assert.Equal(HttpStatusCode.NoContent, (await s.Tpl.DeleteAsync($"/v1/webhook-endpoints/{id}")).StatusCode);
        await ApiAssert.Problem(await s.Tpl.GetAsync($"/v1/webhook-endpoints/{id}"), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task The_connect_guard_refuses_private_and_loopback_addresses_at_connect_time()
    {
        await Assert.ThrowsAsync<HttpRequestException>(() => WebhookSender.ConnectAsync(new DnsEndPoint("10.1.2.3", 443), allowLoopback: true, default).AsTask());
        await Assert.ThrowsAsync<HttpRequestException>(() => WebhookSender.ConnectAsync(new DnsEndPoint("169.254.169.254", 80), allowLoopback: true, default).AsTask());
        await Assert.ThrowsAsync<HttpRequestException>(() => WebhookSender.ConnectAsync(new DnsEndPoint("localhost", 80), allowLoopback: false, default).AsTask());
    }
}

internal static class ReceivedExtensions
{
    public static bool IsEmpty<T>(this IReadOnlyList<T> list) => list.Count == 0;
}
