using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ThreePL.Functions.Tests.Infrastructure;
using ThreePL.Functions.Tests.Webhooks;
using static ThreePL.Functions.Tests.Orders.OrderTestKit;

namespace ThreePL.Functions.Tests.Reliability;

/// <summary>
/// The 3PL's receiver is down (503 with <c>Retry-After</c>) while orders flow, then comes back. With the retry
/// schedule shrunk through options, everything sent during the outage arrives afterwards, each event under one
/// <c>webhook-id</c>; a healthy destination is not held up meanwhile; and a destination that recovered well
/// inside the disable window stays enabled: it takes the next event at once, and no disable is announced.
/// </summary>
[Collection("azurite")]
public sealed class ReceiverOutageTests(AzuriteFixture azurite)
{
    private const int Orders = 12;

    [Fact]
    public async Task Deliveries_made_during_a_receiver_outage_all_arrive_after_it_and_nothing_is_disabled()
    {
        var down = true;
        await using var outage = await TestReceiver.StartAsync((_, c) =>
        {
            if (!Volatile.Read(ref down))
            {
                return TestReceiver.Status(c, 200);
            }
            c.Response.Headers.RetryAfter = "1";
            return TestReceiver.Status(c, 503, "maintenance");
        });
        await using var healthy = await TestReceiver.StartAsync();
        using var app = new TestApp(azurite, new Dictionary<string, string?>
        {
            // ~20 tries a second apart: far longer than the outage, far shorter than a real schedule.
            ["ThreePL:Webhooks:RetrySchedule"] = string.Join(',', Enumerable.Repeat("00:00:00.5", 20)),
            ["ThreePL:Webhooks:MaxRetryAfter"] = "00:00:02",
            // Short enough that a destination counted as failing for too long would be disabled within the test.
            ["ThreePL:Webhooks:DisableAfter"] = "00:00:20",
        });
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var connection = await Connect.ActiveAsync(app, threePl, merchant);
        using var tpl = app.WithKey(threePl.ApiKey);
        using var shop = app.WithKey(merchant.ApiKey);
        await ApiAssert.Json(await tpl.PatchJson($"/v1/connections/{connection}/settings", new { webhookUrl = outage.HookUrl }), HttpStatusCode.OK);
        var endpoint = (await ApiAssert.Json(await tpl.PostAsJsonAsync("/v1/webhook-endpoints", new { url = outage.HookUrl, eventTypes = new[] { "order.created" } }), HttpStatusCode.Created))
            .GetProperty("id").GetString()!;
        await ApiAssert.Json(await tpl.PostAsJsonAsync("/v1/webhook-endpoints", new { url = healthy.HookUrl, eventTypes = new[] { "order.created", "webhook_endpoint.disabled" } }), HttpStatusCode.Created);

        var orders = new List<string>();
        for (var i = 0; i < Orders; i++)
        {
            orders.Add((await SubmitAsync(shop, $"outage-{i}")).GetProperty("id").GetString()!);
        }
        // Two destinations at the failing receiver per order; every one of them refused at least twice.
        await Eventually.True(() => Task.FromResult(orders.All(id => Created(outage, id).Count >= 4)), "every delivery to fail at least twice");
        Assert.All(orders, id => Assert.Single(Created(healthy, id)));
        Volatile.Write(ref down, false);

        await Eventually.True(async () => (await DeliveriesAsync(tpl)).Count(d => d.GetProperty("status").GetString() == "succeeded") == 3 * Orders,
            "every delivery to succeed after the outage");
        foreach (var id in orders)
        {
            var copies = Created(outage, id);
            var ids = copies.Select(h => h.Id).Distinct().ToList();
            // One event, two destinations: the same webhook-id at both, on every try.
            Assert.True(ids.Count == 1, $"{id}: webhook-ids {string.Join(", ", ids)}");
        }
        var deliveries = await DeliveriesAsync(tpl);
        Assert.DoesNotContain(deliveries, d => d.GetProperty("status").GetString() != "succeeded");
        Assert.All(deliveries.Where(d => d.GetProperty("endpointId").GetString() != null && d.GetProperty("endpointId").GetString() != endpoint), d =>
            Assert.Equal(1, d.GetProperty("attemptCount").GetInt32()));
        Assert.Contains(deliveries, d => d.GetProperty("attemptCount").GetInt32() >= 3);

        var endpointNow = await ApiAssert.Json(await tpl.GetAsync($"/v1/webhook-endpoints/{endpoint}"), HttpStatusCode.OK);
        Assert.False(endpointNow.GetProperty("disabled").GetBoolean());
        Assert.Equal(JsonValueKind.Null, endpointNow.GetProperty("failingSince").ValueKind);
        // The connection's destination is enabled too: the next order's webhook goes through on its first try.
        var after = (await SubmitAsync(shop, "after-outage")).GetProperty("id").GetString()!;
        await Eventually.True(() => Task.FromResult(Created(outage, after).Count >= 2), "the next order's webhooks");
        Assert.DoesNotContain(healthy.Hooks, h => h.Body.Contains("\"type\":\"webhook_endpoint.disabled\"", StringComparison.Ordinal));
    }

    private static List<ReceivedWebhook> Created(TestReceiver receiver, string orderId) =>
        receiver.Hooks.Where(h => h.Body.Contains("\"type\":\"order.created\"", StringComparison.Ordinal) && h.Body.Contains($"\"id\":\"{orderId}\"", StringComparison.Ordinal)).ToList();

    private static async Task<List<JsonElement>> DeliveriesAsync(HttpClient client)
    {
        var items = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var page = await ApiAssert.Json(await client.GetAsync("/v1/webhook-deliveries?limit=200" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}")), HttpStatusCode.OK);
            items.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.Clone()));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);
        return items;
    }
}
