using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ThreePL.Domain.Common;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Orders;
using ThreePL.Functions.Tests.Infrastructure;
using ThreePL.Functions.Tests.Webhooks;
using static ThreePL.Functions.Tests.Orders.OrderTestKit;

namespace ThreePL.Functions.Tests.Orders;

/// <summary>Accept/reject of the fulfilment request, re-routing, request deadlines, holds and split shipments, end to end.</summary>
[Collection("azurite")]
public sealed class FulfilmentProtocolTests(AzuriteFixture azurite)
{
    private static object ThreeUnits(string externalId, string sku = "A-1") => new
    {
        externalId,
        lines = new[] { new { sku, quantity = 3, name = "Mug" } },
        shipTo = new { name = "Ada", line1 = "Main St 1", city = "Berlin", postalCode = "10115", countryCode = "DE" },
    };

    private sealed record TwoThreePls(SeededAccount Merchant, SeededAccount First, SeededAccount Second, string ToFirst, string ToSecond);

    /// <summary>A merchant connected to two 3PLs; SKUs starting with <c>A-</c> go to the first, everything else to the second.</summary>
    private static async Task<TwoThreePls> TwoThreePlsAsync(TestApp app)
    {
        var merchant = await Seed.AccountAsync(app, "merchant");
        var first = await Seed.AccountAsync(app, "threepl");
        var second = await Seed.AccountAsync(app, "threepl");
        var toFirst = await Connect.ActiveAsync(app, first, merchant);
        var toSecond = await Connect.ActiveAsync(app, second, merchant);
        using var shop = app.WithKey(merchant.ApiKey);
        await ApiAssert.Json(await shop.PutAsJsonAsync("/v1/routing-rules", new
        {
            rules = new[] { new { type = "skuPrefix", skuPrefixes = new[] { "A-" }, connectionId = toFirst } },
            defaultConnectionId = toSecond,
        }), HttpStatusCode.OK);
        return new TwoThreePls(merchant, first, second, toFirst, toSecond);
    }

    private static async Task<JsonElement> GetAsync(HttpClient client, string id) =>
        await ApiAssert.Json(await client.GetAsync($"/v1/orders/{id}"), HttpStatusCode.OK);

    [Fact]
    public async Task A_rejected_request_goes_back_to_the_merchant_and_is_routed_to_the_other_3pl_never_back()
    {
        using var app = new TestApp(azurite);
        var setup = await TwoThreePlsAsync(app);
        using var shop = app.WithKey(setup.Merchant.ApiKey);
        using var first = app.WithKey(setup.First.ApiKey);
        using var second = app.WithKey(setup.Second.ApiKey);
        var id = (await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/orders", ThreeUnits("rej-1")), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        var delegated = await WaitForStatusAsync(first, id, "awaiting_shipment");
        Assert.Equal("pending", delegated.GetProperty("fulfillmentRequest").GetProperty("status").GetString());

        await ApiAssert.Problem(await shop.PostAsJsonAsync($"/v1/orders/{id}/reject", new { reason = "other" }), HttpStatusCode.Forbidden, "threepl_only");
        await ApiAssert.Problem(await first.PostAsJsonAsync($"/v1/orders/{id}/reject", new { reason = "lost" }), HttpStatusCode.BadRequest, "validation_failed");
        var invalidLine = await ApiAssert.Problem(await first.PostAsJsonAsync($"/v1/orders/{id}/reject", new { reason = "other", lines = new[] { new { sku = "NOT-ON-ORDER" } } }), HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(invalidLine.GetProperty("errors").TryGetProperty("lines[0].sku", out _));
        var rejected = await ApiAssert.Json(await first.PostAsJsonAsync($"/v1/orders/{id}/reject", new
        {
            reason = "inventory_out_of_stock",
            message = "Back in March",
            lines = new[] { new { sku = "A-1", message = "sold out" } },
        }), HttpStatusCode.OK);
        Assert.Equal("open", rejected.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, rejected.GetProperty("connectionId").ValueKind);
        var rejection = Assert.Single(rejected.GetProperty("rejections").EnumerateArray().ToList());
        Assert.Equal((setup.ToFirst, "inventory_out_of_stock", "Back in March", "sold out"), (rejection.GetProperty("connectionId").GetString(), rejection.GetProperty("reason").GetString(),
            rejection.GetProperty("message").GetString(), rejection.GetProperty("lines")[0].GetProperty("message").GetString()));

        var rerouted = await WaitForStatusAsync(second, id, "awaiting_shipment");
        Assert.Equal(setup.ToSecond, rerouted.GetProperty("connectionId").GetString());
        Assert.Equal(0, rerouted.GetProperty("rejections").GetArrayLength());
        Assert.Single((await GetAsync(shop, id)).GetProperty("rejections").EnumerateArray());
        await ApiAssert.Problem(await first.GetAsync($"/v1/orders/{id}"), HttpStatusCode.NotFound, "not_found");
        await ApiAssert.Problem(await first.PostAsync($"/v1/orders/{id}/accept", null), HttpStatusCode.NotFound, "not_found");

        await ApiAssert.Json(await second.PostAsJsonAsync($"/v1/orders/{id}/reject", new { reason = "undeliverable_destination" }), HttpStatusCode.OK);
        await WaitForRoutingAsync(app);
        var back = await GetAsync(shop, id);
        Assert.Equal("open", back.GetProperty("status").GetString());
        Assert.Equal(2, back.GetProperty("rejections").GetArrayLength());
    }

    /// <summary>
    /// A rejection names the connection that made it: after a re-route the merchant sees every one, while the next 3PL,
    /// the merchant's key scoped to that 3PL's connection, its webhooks and its catch-up feed see none of the first 3PL's;
    /// every event's data equals the GET representation of the one who receives it.
    /// </summary>
    [Fact]
    public async Task A_rejection_reaches_the_merchant_and_the_rejecting_3pl_never_the_next_one()
    {
        await using var receiver = await TestReceiver.StartAsync();
        using var app = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:Reconciliation:SettleWindow"] = "00:00:02" });
        var setup = await TwoThreePlsAsync(app);
        using var shop = app.WithKey(setup.Merchant.ApiKey);
        using var first = app.WithKey(setup.First.ApiKey);
        using var second = app.WithKey(setup.Second.ApiKey);
        await ApiAssert.Json(await second.PostAsJsonAsync("/v1/webhook-endpoints", new { url = receiver.HookUrl, eventTypes = new[] { "order.*" } }), HttpStatusCode.Created);
        var scopedKey = (await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/api-keys", new { name = "second's wms", permissions = new[] { "*" }, connectionId = setup.ToSecond }), HttpStatusCode.Created))
            .GetProperty("key").GetString()!;
        using var scoped = app.WithKey(scopedKey);
        var since = DateTimeOffset.UtcNow.AddSeconds(-1);
        var id = (await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/orders", ThreeUnits("rej-view-1")), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        await WaitForStatusAsync(first, id, "awaiting_shipment");
        var rejected = await ApiAssert.Json(await first.PostAsJsonAsync($"/v1/orders/{id}/reject", new { reason = "other", message = "first-3pl-secret" }), HttpStatusCode.OK);
        Assert.Equal(setup.ToFirst, Assert.Single(rejected.GetProperty("rejections").EnumerateArray().ToList()).GetProperty("connectionId").GetString());

        var atSecond = await WaitForStatusAsync(second, id, "awaiting_shipment");
        Assert.Equal(0, atSecond.GetProperty("rejections").GetArrayLength());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(atSecond.GetRawText()), JsonNode.Parse((await GetAsync(scoped, id)).GetRawText())));
        var listed = await ApiAssert.Json(await second.GetAsync("/v1/orders"), HttpStatusCode.OK);
        Assert.DoesNotContain("first-3pl-secret", listed.GetRawText(), StringComparison.Ordinal);
        Assert.Single((await GetAsync(shop, id)).GetProperty("rejections").EnumerateArray());

        var hook = await Eventually.Get<JsonElement?>(() => Task.FromResult(receiver.Hooks.Select(h => JsonDocument.Parse(h.Body).RootElement.GetProperty("data"))
            .Where(d => d.GetProperty("id").GetString() == id && d.GetProperty("connectionId").GetString() == setup.ToSecond)
            .Select(d => (JsonElement?)d.Clone()).FirstOrDefault()), "the second 3PL's webhook of the re-routed order");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(atSecond.GetRawText()), JsonNode.Parse(hook!.Value.GetRawText())), hook.Value.GetRawText());

        var sinceText = Uri.EscapeDataString(since.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        foreach (var (who, client, sees) in new[] { ("second 3PL", second, 0), ("scoped merchant key", scoped, 0), ("merchant", shop, 1) })
        {
            var delegated = (await Eventually.Get<JsonElement?>(async () => (await ApiAssert.Json(await client.GetAsync($"/v1/events?since={sinceText}"), HttpStatusCode.OK))
                .GetProperty("items").EnumerateArray().Select(i => i.GetProperty("data"))
                .Where(d => d.GetProperty("id").GetString() == id && d.GetProperty("connectionId").GetString() == setup.ToSecond)
                .Select(d => (JsonElement?)d.Clone()).FirstOrDefault(), $"the re-routed order in the {who}'s event feed"))!.Value;
            Assert.True(sees == delegated.GetProperty("rejections").GetArrayLength(), $"{who}: {delegated}");
            if (sees == 0)
            {
                Assert.True(JsonNode.DeepEquals(JsonNode.Parse(atSecond.GetRawText()), JsonNode.Parse(delegated.GetRawText())), $"{who}: {delegated}");
            }
        }

        var secondRejects = await ApiAssert.Json(await second.PostAsJsonAsync($"/v1/orders/{id}/reject", new { reason = "other" }), HttpStatusCode.OK);
        Assert.Equal(setup.ToSecond, Assert.Single(secondRejects.GetProperty("rejections").EnumerateArray().ToList()).GetProperty("connectionId").GetString());
        await WaitForRoutingAsync(app);
        Assert.Equal(2, (await GetAsync(shop, id)).GetProperty("rejections").GetArrayLength());
    }

    [Fact]
    public async Task Accept_is_the_3pls_once_and_start_accepts_implicitly()
    {
        using var app = new TestApp(azurite);
        var setup = await TwoThreePlsAsync(app);
        using var shop = app.WithKey(setup.Merchant.ApiKey);
        using var first = app.WithKey(setup.First.ApiKey);
        var explicitly = (await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/orders", ThreeUnits("acc-1")), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        var implicitly = (await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/orders", ThreeUnits("acc-2")), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        await WaitForStatusAsync(first, explicitly, "awaiting_shipment");
        await WaitForStatusAsync(first, implicitly, "awaiting_shipment");

        await ApiAssert.Problem(await shop.PostAsync($"/v1/orders/{explicitly}/accept", null), HttpStatusCode.Forbidden, "threepl_only");
        var accepted = await ApiAssert.Json(await first.PostAsync($"/v1/orders/{explicitly}/accept", null), HttpStatusCode.OK);
        Assert.Equal("awaiting_shipment", accepted.GetProperty("status").GetString());
        Assert.Equal("accepted", accepted.GetProperty("fulfillmentRequest").GetProperty("status").GetString());
        await ApiAssert.Problem(await first.PostAsync($"/v1/orders/{explicitly}/accept", null), HttpStatusCode.Conflict, "invalid_transition");

        var started = await ApiAssert.Json(await first.PostAsync($"/v1/orders/{implicitly}/start", null), HttpStatusCode.OK);
        Assert.Equal("accepted", started.GetProperty("fulfillmentRequest").GetProperty("status").GetString());
        await ApiAssert.Problem(await first.PostAsJsonAsync($"/v1/orders/{implicitly}/reject", new { reason = "other" }), HttpStatusCode.Conflict, "invalid_transition");
    }

    [Fact]
    public async Task Two_holds_with_one_released_still_block_and_only_the_placing_side_releases()
    {
        using var app = new TestApp(azurite);
        var setup = await TwoThreePlsAsync(app);
        using var shop = app.WithKey(setup.Merchant.ApiKey);
        using var first = app.WithKey(setup.First.ApiKey);
        var id = (await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/orders", ThreeUnits("hold-1")), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        await WaitForStatusAsync(first, id, "awaiting_shipment");

        await ApiAssert.Problem(await shop.PostAsJsonAsync($"/v1/orders/{id}/holds", new { reason = "later" }), HttpStatusCode.BadRequest, "validation_failed");
        var merchantHold = await ApiAssert.Json(await shop.PostAsJsonAsync($"/v1/orders/{id}/holds", new { reason = "awaiting_payment", note = "card declined" }), HttpStatusCode.Created);
        Assert.Equal(("awaiting_payment", "merchant"), (merchantHold.GetProperty("reason").GetString(), merchantHold.GetProperty("placedBy").GetString()));
        var threePlHold = await ApiAssert.Json(await first.PostAsJsonAsync($"/v1/orders/{id}/holds", new { reason = "inventory_out_of_stock" }), HttpStatusCode.Created);
        var merchantHoldId = merchantHold.GetProperty("id").GetString()!;
        var threePlHoldId = threePlHold.GetProperty("id").GetString()!;
        var twoHolds = await GetAsync(first, id);
        Assert.Equal(2, twoHolds.GetProperty("holds").GetArrayLength());

        // A client retrying after a timeout gets the hold it placed, not a second one.
        var retried = await ApiAssert.Json(await shop.PostAsJsonAsync($"/v1/orders/{id}/holds", new { reason = "awaiting_payment", note = "card declined" }), HttpStatusCode.OK);
        Assert.Equal(merchantHold.GetRawText(), retried.GetRawText());
        var afterRetry = await GetAsync(first, id);
        Assert.Equal(2, afterRetry.GetProperty("holds").GetArrayLength());
        Assert.Equal(twoHolds.GetProperty("version").GetInt64(), afterRetry.GetProperty("version").GetInt64());
        var history = await app.Services.GetRequiredService<OrderStore>().ListHistoryAsync(OrderId.Parse(id), CancellationToken.None);
        Assert.Equal(2, history.Count(h => h.Event == "OrderHeld"));

        await ApiAssert.Problem(await shop.PostAsync($"/v1/orders/{id}/holds/{threePlHoldId}/release", null), HttpStatusCode.Forbidden, "hold_placed_by_other_party");
        await ApiAssert.Problem(await shop.PostAsync($"/v1/orders/{id}/holds/hld_00000000000000000000/release", null), HttpStatusCode.NotFound, "hold_not_found");
        var released = await ApiAssert.Json(await shop.PostAsync($"/v1/orders/{id}/holds/{merchantHoldId}/release", null), HttpStatusCode.OK);
        Assert.Equal(threePlHoldId, Assert.Single(released.GetProperty("holds").EnumerateArray().ToList()).GetProperty("id").GetString());
        var releasedAgain = await ApiAssert.Json(await shop.PostAsync($"/v1/orders/{id}/holds/{merchantHoldId}/release", null), HttpStatusCode.OK);
        Assert.Equal(released.GetProperty("version").GetInt64(), releasedAgain.GetProperty("version").GetInt64());
        Assert.Equal(threePlHoldId, Assert.Single(releasedAgain.GetProperty("holds").EnumerateArray().ToList()).GetProperty("id").GetString());
        await ApiAssert.Problem(await first.PostAsync($"/v1/orders/{id}/holds/{merchantHoldId}/release", null), HttpStatusCode.Forbidden, "hold_placed_by_other_party");
        history = await app.Services.GetRequiredService<OrderStore>().ListHistoryAsync(OrderId.Parse(id), CancellationToken.None);
        Assert.Single(history, h => h.Event == "OrderReleased");

        var held = await ApiAssert.Problem(await first.PostAsync($"/v1/orders/{id}/start", null), HttpStatusCode.Conflict, "order_on_hold");
        Assert.Equal("awaiting_shipment", held.GetProperty("currentStatus").GetString());
        await ApiAssert.Problem(await first.PostAsJsonAsync($"/v1/orders/{id}/ship", new { carrier = "DHL", service = "Paket", trackingNumber = "H-1" }), HttpStatusCode.Conflict, "order_on_hold");
        await ApiAssert.Json(await first.PostAsync($"/v1/orders/{id}/holds/{threePlHoldId}/release", null), HttpStatusCode.OK);
        Assert.Equal("in_progress", (await ApiAssert.Json(await first.PostAsync($"/v1/orders/{id}/start", null), HttpStatusCode.OK)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Shipping_one_unit_then_two_makes_two_shipments_two_usage_lines_and_a_repeat_ships_once()
    {
        using var app = new TestApp(azurite);
        var setup = await TwoThreePlsAsync(app);
        using var shop = app.WithKey(setup.Merchant.ApiKey);
        using var first = app.WithKey(setup.First.ApiKey);
        var id = (await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/orders", ThreeUnits("split-1")), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        await WaitForStatusAsync(first, id, "awaiting_shipment");
        var one = new { carrier = "DHL", service = "Paket", trackingNumber = "S-1", lines = new[] { new { sku = "A-1", quantity = 1 } } };

        await ApiAssert.Problem(await first.PostAsJsonAsync($"/v1/orders/{id}/ship", new { carrier = "DHL", service = "Paket", trackingNumber = "S-0", lines = new[] { new { sku = "A-1", quantity = 4 } } }), HttpStatusCode.BadRequest, "validation_failed");
        var partial = await ApiAssert.Json(await first.PostAsJsonAsync($"/v1/orders/{id}/ship", one), HttpStatusCode.OK);
        Assert.Equal("partially_shipped", partial.GetProperty("status").GetString());
        Assert.Equal(1, partial.GetProperty("lines")[0].GetProperty("quantityShipped").GetInt32());
        var repeated = await ApiAssert.Json(await first.PostAsJsonAsync($"/v1/orders/{id}/ship", one), HttpStatusCode.OK);
        Assert.Equal(partial.GetProperty("version").GetInt64(), repeated.GetProperty("version").GetInt64());
        Assert.Single(repeated.GetProperty("shipments").EnumerateArray());
        await ApiAssert.Problem(await first.PostAsJsonAsync($"/v1/orders/{id}/ship", one with { lines = new[] { new { sku = "A-1", quantity = 2 } } }), HttpStatusCode.Conflict, "tracking_number_in_use");

        var shipped = await ApiAssert.Json(await first.PostAsJsonAsync($"/v1/orders/{id}/ship", new { carrier = "UPS", service = "Ground", trackingNumber = "S-2" }), HttpStatusCode.OK);
        Assert.Equal("shipped", shipped.GetProperty("status").GetString());
        Assert.Equal(3, shipped.GetProperty("lines")[0].GetProperty("quantityShipped").GetInt32());
        var shipments = shipped.GetProperty("shipments").EnumerateArray().ToList();
        Assert.Equal([1, 2], shipments.Select(s => s.GetProperty("lines")[0].GetProperty("quantity").GetInt32()));
        Assert.Equal("S-2", shipped.GetProperty("shipment").GetProperty("trackingNumber").GetString());
        await ApiAssert.Json(await first.PostAsJsonAsync($"/v1/orders/{id}/ship", new { carrier = "UPS", service = "Ground", trackingNumber = "S-2" }), HttpStatusCode.OK);

        var month = DateTimeOffset.UtcNow.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);
        var usage = await Eventually.Get<JsonElement?>(async () =>
        {
            var page = await ApiAssert.Json(await first.GetAsync($"/v1/billing/usage?month={month}"), HttpStatusCode.OK);
            return page.GetProperty("totalShipments").GetInt32() >= 2 ? page : null;
        }, "two usage lines");
        await WaitForQueueAsync(app, "events");
        var final = await ApiAssert.Json(await first.GetAsync($"/v1/billing/usage?month={month}"), HttpStatusCode.OK);
        Assert.Equal(2, final.GetProperty("totalShipments").GetInt32());
        Assert.Equal(2, usage!.Value.GetProperty("totalShipments").GetInt32());
    }

    [Fact]
    public async Task After_a_partial_shipment_cancelling_asks_for_the_rest_and_deactivation_leaves_the_order_with_the_3pl()
    {
        using var app = new TestApp(azurite);
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var connection = await Connect.ActiveAsync(app, threePl, merchant);
        using var shop = app.WithKey(merchant.ApiKey);
        using var tpl = app.WithKey(threePl.ApiKey);
        var split = (await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/orders", ThreeUnits("part-1")), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        var kept = (await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/orders", ThreeUnits("part-2")), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        var unstarted = (await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/orders", ThreeUnits("part-3")), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        foreach (var id in new[] { split, kept, unstarted })
        {
            await WaitForStatusAsync(tpl, id, "awaiting_shipment");
        }
        var one = new { carrier = "DHL", service = "Paket", trackingNumber = "P-1", lines = new[] { new { sku = "A-1", quantity = 1 } } };
        await ApiAssert.Json(await tpl.PostAsJsonAsync($"/v1/orders/{split}/ship", one), HttpStatusCode.OK);
        await ApiAssert.Json(await tpl.PostAsJsonAsync($"/v1/orders/{kept}/ship", one with { trackingNumber = "P-2" }), HttpStatusCode.OK);

        Assert.Equal("cancellation_requested", (await ApiAssert.Json(await shop.PostAsync($"/v1/orders/{split}/cancel", null), HttpStatusCode.OK)).GetProperty("status").GetString());
        var cancelled = await ApiAssert.Json(await tpl.PostAsync($"/v1/orders/{split}/cancellation/accept", null), HttpStatusCode.OK);
        Assert.Equal("cancelled", cancelled.GetProperty("status").GetString());
        Assert.Equal(1, cancelled.GetProperty("lines")[0].GetProperty("quantityShipped").GetInt32());
        await ApiAssert.Problem(await tpl.PostAsJsonAsync($"/v1/orders/{split}/ship", new { carrier = "DHL", service = "Paket", trackingNumber = "P-3" }), HttpStatusCode.Conflict, "invalid_transition");

        await ApiAssert.Json(await tpl.PostAsync($"/v1/connections/{connection}/deactivate", null), HttpStatusCode.OK);
        await WaitForStatusAsync(shop, unstarted, "open");
        var stays = await GetAsync(tpl, kept);
        Assert.Equal(("partially_shipped", connection), (stays.GetProperty("status").GetString(), stays.GetProperty("connectionId").GetString()));
    }

    [Fact]
    public async Task Another_tenant_gets_404_and_a_key_without_the_sides_write_permission_gets_403()
    {
        using var app = new TestApp(azurite);
        var setup = await TwoThreePlsAsync(app);
        var stranger = await Seed.AccountAsync(app, "threepl");
        var otherShop = await Seed.AccountAsync(app, "merchant");
        using var shop = app.WithKey(setup.Merchant.ApiKey);
        using var first = app.WithKey(setup.First.ApiKey);
        var id = (await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/orders", ThreeUnits("iso-1")), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        await WaitForStatusAsync(first, id, "awaiting_shipment");
        var hold = (await ApiAssert.Json(await first.PostAsJsonAsync($"/v1/orders/{id}/holds", new { reason = "other" }), HttpStatusCode.Created)).GetProperty("id").GetString()!;

        foreach (var key in new[] { stranger.ApiKey, otherShop.ApiKey, setup.Second.ApiKey })
        {
            using var client = app.WithKey(key);
            await ApiAssert.Problem(await client.PostAsync($"/v1/orders/{id}/accept", null), HttpStatusCode.NotFound, "not_found");
            await ApiAssert.Problem(await client.PostAsJsonAsync($"/v1/orders/{id}/reject", new { reason = "other" }), HttpStatusCode.NotFound, "not_found");
            await ApiAssert.Problem(await client.PostAsJsonAsync($"/v1/orders/{id}/holds", new { reason = "other" }), HttpStatusCode.NotFound, "not_found");
            await ApiAssert.Problem(await client.PostAsync($"/v1/orders/{id}/holds/{hold}/release", null), HttpStatusCode.NotFound, "not_found");
        }

        var readOnly = (await ApiAssert.Json(await first.PostAsJsonAsync("/v1/api-keys", new { name = "ro", permissions = new[] { "orders:read", "orders:write" } }), HttpStatusCode.Created)).GetProperty("key").GetString()!;
        using var readOnlyClient = app.WithKey(readOnly);
        await ApiAssert.Problem(await readOnlyClient.PostAsJsonAsync($"/v1/orders/{id}/holds", new { reason = "other" }), HttpStatusCode.Forbidden, "missing_permission");
        await ApiAssert.Problem(await readOnlyClient.PostAsync($"/v1/orders/{id}/holds/{hold}/release", null), HttpStatusCode.Forbidden, "missing_permission");
        await ApiAssert.Problem(await readOnlyClient.PostAsync($"/v1/orders/{id}/accept", null), HttpStatusCode.Forbidden, "missing_permission");
    }

    [Fact]
    public async Task An_unanswered_request_escalates_once_and_moves_to_the_other_3pl()
    {
        var clock = new ShiftedClock();
        var logs = new CapturedLogs();
        using var app = new TestApp(azurite,
            new Dictionary<string, string?> { ["ThreePL:Orders:RequestDeadlineMaxDelay"] = "00:00:01" },
            services => services.AddSingleton<TimeProvider>(clock).AddSingleton<ILoggerProvider>(logs));
        var setup = await TwoThreePlsAsync(app);
        using var shop = app.WithKey(setup.Merchant.ApiKey);
        using var first = app.WithKey(setup.First.ApiKey);
        using var second = app.WithKey(setup.Second.ApiKey);
        await ApiAssert.Problem(await first.PatchJson($"/v1/connections/{setup.ToFirst}/settings", new { acceptWithin = "PT1M" }), HttpStatusCode.BadRequest, "validation_failed");
        await ApiAssert.Problem(await first.PatchJson($"/v1/connections/{setup.ToFirst}/settings", new { acceptWithin = "P1M" }), HttpStatusCode.BadRequest, "validation_failed");
        var settings = await ApiAssert.Json(await first.PatchJson($"/v1/connections/{setup.ToFirst}/settings", new { acceptWithin = "PT10M" }), HttpStatusCode.OK);
        Assert.Equal("PT10M", settings.GetProperty("acceptWithin").GetString());
        var id = (await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/orders", ThreeUnits("due-1")), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        await WaitForStatusAsync(first, id, "awaiting_shipment");

        // The deadline message wakes every second: once it has found the request not yet due and re-armed itself, the
        // request must still be pending and not overdue.
        await Eventually.True(() => Task.FromResult(logs.Entries.Any(e => e.Message.StartsWith($"Request of order {id} at {setup.ToFirst} is not due until", StringComparison.Ordinal))),
            "the deadline message to find the request not yet due");
        var notYetDue = (await GetAsync(first, id)).GetProperty("fulfillmentRequest");
        Assert.Equal(("pending", JsonValueKind.Null), (notYetDue.GetProperty("status").GetString(), notYetDue.GetProperty("overdueAt").ValueKind));

        clock.Offset = TimeSpan.FromMinutes(11);
        var moved = await WaitForStatusAsync(second, id, "awaiting_shipment");
        Assert.Equal(setup.ToSecond, moved.GetProperty("connectionId").GetString());
        await ApiAssert.Problem(await first.GetAsync($"/v1/orders/{id}"), HttpStatusCode.NotFound, "not_found");
        await WaitForQueueAsync(app, RequestDeadlineMessage.Queue);
        var history = await app.Services.GetRequiredService<OrderStore>().ListHistoryAsync(OrderId.Parse(id), CancellationToken.None);
        Assert.Single(history, h => h.Event == "OrderRequestOverdue");
        Assert.Equal(["OrderReceived", "OrderDelegated", "OrderRequestOverdue", "OrderDelegated"], history.Select(h => h.Event));
    }

    [Fact]
    public async Task An_unanswered_request_with_nowhere_else_to_go_is_marked_overdue_and_stays()
    {
        var clock = new ShiftedClock();
        using var app = new TestApp(azurite,
            new Dictionary<string, string?> { ["ThreePL:Orders:RequestDeadlineMaxDelay"] = "00:00:01" },
            services => services.AddSingleton<TimeProvider>(clock));
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var connection = await Connect.ActiveAsync(app, threePl, merchant);
        using var shop = app.WithKey(merchant.ApiKey);
        using var tpl = app.WithKey(threePl.ApiKey);
        await ApiAssert.Json(await tpl.PatchJson($"/v1/connections/{connection}/settings", new { acceptWithin = "PT5M" }), HttpStatusCode.OK);
        var id = (await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/orders", ThreeUnits("due-2")), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        await WaitForStatusAsync(tpl, id, "awaiting_shipment");

        clock.Offset = TimeSpan.FromMinutes(6);
        var overdue = await Eventually.Get<JsonElement?>(async () =>
        {
            var order = await GetAsync(tpl, id);
            return order.GetProperty("fulfillmentRequest").GetProperty("overdueAt").ValueKind == JsonValueKind.String ? order : null;
        }, "the request to be overdue");
        Assert.Equal(connection, overdue!.Value.GetProperty("connectionId").GetString());
        Assert.Equal("awaiting_shipment", overdue.Value.GetProperty("status").GetString());
        Assert.Equal("accepted", (await ApiAssert.Json(await tpl.PostAsync($"/v1/orders/{id}/accept", null), HttpStatusCode.OK)).GetProperty("fulfillmentRequest").GetProperty("status").GetString());
    }

    private static Task WaitForQueueAsync(TestApp app, string queue) =>
        Eventually.True(async () => await app.Services.GetRequiredService<Azure.Storage.Queues.QueueServiceClient>()
            .GetQueueClient(app.Services.GetRequiredService<ThreePL.Functions.Infrastructure.StorageNames>().Queue(queue)).ApproximateCountAsync() == 0, $"queue {queue} to drain");

    /// <summary>The system clock moved forward by <see cref="Offset"/>, so a deadline passes without waiting for it.</summary>
    private sealed class ShiftedClock : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
    }
}
