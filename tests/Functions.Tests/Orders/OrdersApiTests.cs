using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ThreePL.Functions.Tests.Infrastructure;
using static ThreePL.Functions.Tests.Orders.OrderTestKit;

namespace ThreePL.Functions.Tests.Orders;

[Collection("azurite")]
public sealed class OrdersApiTests(AzuriteFixture azurite) : IDisposable
{
    private readonly TestApp _app = new(azurite);

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task Intake_routes_to_the_single_active_connection_and_the_3pl_ships_it()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var merchant = await Seed.AccountAsync(_app, "merchant");
        var connection = await Connect.ActiveAsync(_app, threePl, merchant);
        using var shop = _app.WithKey(merchant.ApiKey);
        using var tpl = _app.WithKey(threePl.ApiKey);

        var created = await SubmitAsync(shop, "1001", notes: "Gift wrap, please");
        var id = created.GetProperty("id").GetString()!;
        Assert.Equal("open", created.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, created.GetProperty("connectionId").ValueKind);
        Assert.Equal("DE", created.GetProperty("shipTo").GetProperty("countryCode").GetString());
        Assert.Equal(1, created.GetProperty("version").GetInt64());

        var again = await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/orders", Body("1001", "OTHER")), HttpStatusCode.OK);
        Assert.Equal(id, again.GetProperty("id").GetString());

        var delegated = await WaitForStatusAsync(tpl, id, "awaiting_shipment");
        Assert.Equal(connection, delegated.GetProperty("connectionId").GetString());
        Assert.Equal(1, delegated.GetProperty("settingsVersion").GetInt32());
        Assert.Equal("Gift wrap, please", delegated.GetProperty("notes").GetString());
        Assert.Equal(2, delegated.GetProperty("version").GetInt64());
        // Routing writes the 3PL's list row just after committing the order, so the list may lag the order a moment.
        await Eventually.True(async () => (await ListIdsAsync(tpl, $"&connectionId={connection}&status=awaiting_shipment")).SequenceEqual([id]), "the 3PL list to show the order");

        await ApiAssert.Problem(await shop.PostAsync($"/v1/orders/{id}/start", null), HttpStatusCode.Forbidden, "threepl_only");
        Assert.Equal("in_progress", (await ApiAssert.Json(await tpl.PostAsync($"/v1/orders/{id}/start", null), HttpStatusCode.OK)).GetProperty("status").GetString());
        await ApiAssert.Problem(await tpl.PostAsJsonAsync($"/v1/orders/{id}/ship", new { carrier = "DHL", service = "" }), HttpStatusCode.BadRequest, "validation_failed");
        var shipped = await ApiAssert.Json(await tpl.PostAsJsonAsync($"/v1/orders/{id}/ship", new { carrier = "DHL", service = "Paket", trackingNumber = "00340434" }), HttpStatusCode.OK);
        Assert.Equal("shipped", shipped.GetProperty("status").GetString());
        Assert.Equal("00340434", shipped.GetProperty("shipment").GetProperty("trackingNumber").GetString());

        var seen = await WaitForStatusAsync(shop, id, "shipped");
        Assert.Equal("DHL", seen.GetProperty("shipment").GetProperty("carrier").GetString());
        await Eventually.True(async () => (await ListIdsAsync(shop, "&status=shipped")).SequenceEqual([id]), "the merchant's list to show the order shipped");
        var conflict = await ApiAssert.Problem(await shop.PostAsync($"/v1/orders/{id}/cancel", null), HttpStatusCode.Conflict, "invalid_transition");
        Assert.Equal("shipped", conflict.GetProperty("currentStatus").GetString());
    }

    [Fact]
    public async Task Concurrent_retries_of_one_external_id_make_one_order()
    {
        var merchant = await Seed.AccountAsync(_app, "merchant");
        using var shop = _app.WithKey(merchant.ApiKey);
        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => shop.PostAsJsonAsync("/v1/orders", Body("dup-1"))));
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.OK }));
        var ids = await Task.WhenAll(responses.Select(async r => (await ApiAssert.Json(r, r.StatusCode)).GetProperty("id").GetString()));
        Assert.Single(ids.Distinct());
        Assert.Single(await ListIdsAsync(shop));
    }

    [Fact]
    public async Task Bad_input_is_a_4xx_problem_naming_the_field()
    {
        var merchant = await Seed.AccountAsync(_app, "merchant");
        var threePl = await Seed.AccountAsync(_app, "threepl");
        using var shop = _app.WithKey(merchant.ApiKey);
        var problem = await ApiAssert.Problem(await shop.PostAsJsonAsync("/v1/orders", new
        {
            externalId = "",
            lines = new object[] { new { sku = "A", quantity = 0 }, new { sku = "A", quantity = 1 } },
            shipTo = new { name = "Ada", line1 = "x", city = "y", postalCode = "1", countryCode = "XX" },
        }), HttpStatusCode.BadRequest, "validation_failed");
        var errors = problem.GetProperty("errors");
        foreach (var field in new[] { "externalId", "lines[0].quantity", "lines[1].sku", "shipTo.countryCode" })
        {
            Assert.True(errors.TryGetProperty(field, out _), $"no error for {field}: {errors}");
        }
        var tooMany = Enumerable.Range(0, 251).Select(i => new { sku = $"S{i}", quantity = 1 }).ToArray();
        await ApiAssert.Problem(await shop.PostAsJsonAsync("/v1/orders", new { externalId = "x", lines = tooMany, shipTo = new { name = "A", line1 = "B", city = "C", postalCode = "1", countryCode = "DE" } }), HttpStatusCode.BadRequest, "validation_failed");
        var big = Enumerable.Range(0, 200).Select(i => new { sku = $"S{i}", quantity = 1, name = new string('n', 190) }).ToArray();
        var tooBig = await ApiAssert.Problem(await shop.PostAsJsonAsync("/v1/orders", new { externalId = "x", lines = big, shipTo = new { name = "A", line1 = "B", city = "C", postalCode = "1", countryCode = "DE" } }), HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(tooBig.GetProperty("errors").TryGetProperty("lines", out _));
        await ApiAssert.Problem(await shop.PostAsync("/v1/orders", JsonContent.Create(new { externalId = "x", lines = new[] { new { sku = "A", quantity = "two" } } })), HttpStatusCode.BadRequest, "malformed_json");
        await ApiAssert.Problem(await shop.GetAsync("/v1/orders?status=lost"), HttpStatusCode.BadRequest, "validation_failed");
        await ApiAssert.Problem(await shop.GetAsync("/v1/orders?cursor=garbage"), HttpStatusCode.BadRequest, "validation_failed");
        await ApiAssert.Problem(await shop.GetAsync("/v1/orders/ord_nope"), HttpStatusCode.NotFound, "not_found");
        using var tpl = _app.WithKey(threePl.ApiKey);
        await ApiAssert.Problem(await tpl.PostAsJsonAsync("/v1/orders", Body("x")), HttpStatusCode.Forbidden, "merchant_only");
        Assert.Empty(await ListIdsAsync(shop));
    }

    [Fact]
    public async Task Cancellation_is_immediate_before_start_and_a_request_after()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var merchant = await Seed.AccountAsync(_app, "merchant");
        await Connect.ActiveAsync(_app, threePl, merchant);
        using var shop = _app.WithKey(merchant.ApiKey);
        using var tpl = _app.WithKey(threePl.ApiKey);
        var first = (await SubmitAsync(shop, "c1")).GetProperty("id").GetString()!;
        var second = (await SubmitAsync(shop, "c2")).GetProperty("id").GetString()!;
        var third = (await SubmitAsync(shop, "c3")).GetProperty("id").GetString()!;
        foreach (var id in new[] { first, second, third })
        {
            await WaitForStatusAsync(tpl, id, "awaiting_shipment");
        }

        Assert.Equal("cancelled", (await ApiAssert.Json(await shop.PostAsync($"/v1/orders/{first}/cancel", null), HttpStatusCode.OK)).GetProperty("status").GetString());
        Assert.Equal("cancelled", (await WaitForStatusAsync(tpl, first, "cancelled")).GetProperty("status").GetString());
        await ApiAssert.Problem(await tpl.PostAsync($"/v1/orders/{first}/start", null), HttpStatusCode.Conflict, "invalid_transition");

        await ApiAssert.Json(await tpl.PostAsync($"/v1/orders/{second}/start", null), HttpStatusCode.OK);
        await ApiAssert.Problem(await tpl.PostAsync($"/v1/orders/{second}/cancel", null), HttpStatusCode.Forbidden, "merchant_only");
        Assert.Equal("cancellation_requested", (await ApiAssert.Json(await shop.PostAsync($"/v1/orders/{second}/cancel", null), HttpStatusCode.OK)).GetProperty("status").GetString());
        await ApiAssert.Problem(await shop.PostAsync($"/v1/orders/{second}/cancellation/accept", null), HttpStatusCode.Forbidden, "threepl_only");
        Assert.Equal("cancelled", (await ApiAssert.Json(await tpl.PostAsync($"/v1/orders/{second}/cancellation/accept", null), HttpStatusCode.OK)).GetProperty("status").GetString());

        await ApiAssert.Json(await tpl.PostAsync($"/v1/orders/{third}/start", null), HttpStatusCode.OK);
        await ApiAssert.Json(await shop.PostAsync($"/v1/orders/{third}/cancel", null), HttpStatusCode.OK);
        var rejected = await ApiAssert.Json(await tpl.PostAsync($"/v1/orders/{third}/cancellation/reject", null), HttpStatusCode.OK);
        Assert.Equal("in_progress", rejected.GetProperty("status").GetString());
        await ApiAssert.Problem(await tpl.PostAsync($"/v1/orders/{third}/cancellation/reject", null), HttpStatusCode.Conflict, "invalid_transition");
        await ApiAssert.Json(await tpl.PostAsJsonAsync($"/v1/orders/{third}/ship", new { carrier = "UPS", service = "Standard", trackingNumber = "1Z" }), HttpStatusCode.OK);
        await ApiAssert.Problem(await shop.PostAsync($"/v1/orders/{third}/cancel", null), HttpStatusCode.Conflict, "invalid_transition");

        var open = (await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/orders", Body("c4")), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        var cancelledOpen = await shop.PostAsync($"/v1/orders/{open}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancelledOpen.StatusCode);
    }

    [Fact]
    public async Task Settings_changed_after_delegation_do_not_alter_the_order()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var merchant = await Seed.AccountAsync(_app, "merchant");
        var connection = await Connect.ActiveAsync(_app, threePl, merchant);
        using var shop = _app.WithKey(merchant.ApiKey);
        using var tpl = _app.WithKey(threePl.ApiKey);
        await ApiAssert.Json(await tpl.PatchJson($"/v1/connections/{connection}/settings", new { internalCustomerId = "CUST-1" }), HttpStatusCode.OK);
        var id = (await SubmitAsync(shop, "s1")).GetProperty("id").GetString()!;
        var before = await WaitForStatusAsync(tpl, id, "awaiting_shipment");
        Assert.Equal("CUST-1", before.GetProperty("internalCustomerId").GetString());
        Assert.Equal(2, before.GetProperty("settingsVersion").GetInt32());

        await ApiAssert.Json(await tpl.PatchJson($"/v1/connections/{connection}/settings", new { internalCustomerId = "CUST-2", shippingRules = "merchant" }), HttpStatusCode.OK);
        var after = await ApiAssert.Json(await tpl.GetAsync($"/v1/orders/{id}"), HttpStatusCode.OK);
        Assert.Equal("CUST-1", after.GetProperty("internalCustomerId").GetString());
        Assert.Equal(2, after.GetProperty("settingsVersion").GetInt32());

        var next = (await SubmitAsync(shop, "s2")).GetProperty("id").GetString()!;
        var newer = await WaitForStatusAsync(tpl, next, "awaiting_shipment");
        Assert.Equal("CUST-2", newer.GetProperty("internalCustomerId").GetString());
        Assert.Equal(3, newer.GetProperty("settingsVersion").GetInt32());
    }

    [Fact]
    public async Task Routing_rules_pick_the_connection_and_without_a_match_the_order_stays_open()
    {
        var merchant = await Seed.AccountAsync(_app, "merchant");
        var east = await Seed.AccountAsync(_app, "threepl");
        var west = await Seed.AccountAsync(_app, "threepl");
        var toEast = await Connect.ActiveAsync(_app, east, merchant);
        var toWest = await Connect.ActiveAsync(_app, west, merchant);
        using var shop = _app.WithKey(merchant.ApiKey);

        var unrouted = (await SubmitAsync(shop, "r0")).GetProperty("id").GetString()!;
        await WaitForRoutingAsync(_app);

        await ApiAssert.Problem(await shop.PutAsJsonAsync("/v1/routing-rules", new { rules = new object[] { new { type = "skuPrefix", skuPrefixes = new[] { "W-" }, connectionId = "con_nope" } } }), HttpStatusCode.BadRequest, "validation_failed");
        await ApiAssert.Problem(await shop.PutAsJsonAsync("/v1/routing-rules", new { rules = new object[] { new { type = "teleport" } } }), HttpStatusCode.BadRequest, "validation_failed");
        await ApiAssert.Json(await shop.PutAsJsonAsync("/v1/routing-rules", new
        {
            rules = new object[]
            {
                new { type = "stocksEveryLine" },
                new { type = "skuPrefix", skuPrefixes = new[] { "W-", "WW-" }, connectionId = toWest },
            },
            defaultConnectionId = toEast,
        }), HttpStatusCode.OK);
        var rules = await ApiAssert.Json(await shop.GetAsync("/v1/routing-rules"), HttpStatusCode.OK);
        Assert.Equal(2, rules.GetProperty("rules").GetArrayLength());

        var westOrder = (await SubmitAsync(shop, "r1", "W-SOCK")).GetProperty("id").GetString()!;
        var eastOrder = (await SubmitAsync(shop, "r2", "E-SOCK")).GetProperty("id").GetString()!;
        Assert.Equal(toWest, (await WaitForStatusAsync(shop, westOrder, "awaiting_shipment")).GetProperty("connectionId").GetString());
        Assert.Equal(toEast, (await WaitForStatusAsync(shop, eastOrder, "awaiting_shipment")).GetProperty("connectionId").GetString());
        Assert.Equal("open", (await ApiAssert.Json(await shop.GetAsync($"/v1/orders/{unrouted}"), HttpStatusCode.OK)).GetProperty("status").GetString());

        using var westClient = _app.WithKey(west.ApiKey);
        await ApiAssert.Problem(await westClient.GetAsync($"/v1/orders/{eastOrder}"), HttpStatusCode.NotFound, "not_found");
        // The 3PL's list row is written right after the routing commit, not with it.
        await Eventually.True(async () => (await ListIdsAsync(westClient)).SequenceEqual([westOrder]), "the west 3PL's list to show its order");

        var manual = await ApiAssert.Json(await shop.PostAsJsonAsync($"/v1/orders/{unrouted}/delegate", new { connectionId = toWest }), HttpStatusCode.OK);
        Assert.Equal(toWest, manual.GetProperty("connectionId").GetString());
        await ApiAssert.Problem(await shop.PostAsJsonAsync($"/v1/orders/{unrouted}/delegate", new { connectionId = toEast }), HttpStatusCode.Conflict, "invalid_transition");
        await ApiAssert.Problem(await shop.PostAsJsonAsync($"/v1/orders/{unrouted}/delegate", new { connectionId = "nope" }), HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Delegation_is_refused_when_the_shipping_rules_owner_has_no_carrier_for_the_service()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var merchant = await Seed.AccountAsync(_app, "merchant");
        var other = await Seed.AccountAsync(_app, "threepl");
        var connection = await Connect.ActiveAsync(_app, threePl, merchant);
        await Connect.ActiveAsync(_app, other, merchant);
        using var shop = _app.WithKey(merchant.ApiKey);
        using var tpl = _app.WithKey(threePl.ApiKey);

        await ApiAssert.Problem(await tpl.PutAsJsonAsync("/v1/carrier-accounts", new { accounts = new[] { new { carrier = "DHL", services = Array.Empty<string>() } } }), HttpStatusCode.BadRequest, "validation_failed");
        await ApiAssert.Json(await tpl.PutAsJsonAsync("/v1/carrier-accounts", new { accounts = new[] { new { carrier = "DHL", services = new[] { "Paket", "Express" } } } }), HttpStatusCode.OK);
        var id = (await SubmitAsync(shop, "k1", service: "Overnight")).GetProperty("id").GetString()!;
        var problem = await ApiAssert.Problem(await shop.PostAsJsonAsync($"/v1/orders/{id}/delegate", new { connectionId = connection }), HttpStatusCode.UnprocessableEntity, "carrier_service_not_supported");
        Assert.Equal("The shipping service is not valid because the client does not have a carrier account that supports it.", problem.GetProperty("detail").GetString());

        // With the merchant owning the shipping rules and no carrier accounts of its own, nothing is refused.
        await ApiAssert.Json(await tpl.PatchJson($"/v1/connections/{connection}/settings", new { shippingRules = "merchant" }), HttpStatusCode.OK);
        Assert.Equal("awaiting_shipment", (await ApiAssert.Json(await shop.PostAsJsonAsync($"/v1/orders/{id}/delegate", new { connectionId = connection }), HttpStatusCode.OK)).GetProperty("status").GetString());

        await ApiAssert.Json(await shop.PutAsJsonAsync("/v1/carrier-accounts", new { accounts = new[] { new { carrier = "GLS", services = new[] { "Parcel" } } } }), HttpStatusCode.OK);
        var express = (await SubmitAsync(shop, "k2", service: "Express")).GetProperty("id").GetString()!;
        await ApiAssert.Problem(await shop.PostAsJsonAsync($"/v1/orders/{express}/delegate", new { connectionId = connection }), HttpStatusCode.UnprocessableEntity, "carrier_service_not_supported");
        var parcel = (await SubmitAsync(shop, "k3", service: "parcel")).GetProperty("id").GetString()!;
        await ApiAssert.Json(await shop.PostAsJsonAsync($"/v1/orders/{parcel}/delegate", new { connectionId = connection }), HttpStatusCode.OK);
    }

    [Fact]
    public async Task Tenants_never_see_each_others_orders_and_a_scoped_key_sees_one_connection()
    {
        var merchant = await Seed.AccountAsync(_app, "merchant");
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var stranger3Pl = await Seed.AccountAsync(_app, "threepl");
        var strangerShop = await Seed.AccountAsync(_app, "merchant");
        var otherClient = await Seed.AccountAsync(_app, "merchant");
        var connection = await Connect.ActiveAsync(_app, threePl, merchant);
        var otherConnection = await Connect.ActiveAsync(_app, threePl, otherClient);
        await Connect.ActiveAsync(_app, stranger3Pl, strangerShop);
        using var shop = _app.WithKey(merchant.ApiKey);
        using var other = _app.WithKey(otherClient.ApiKey);
        using var tpl = _app.WithKey(threePl.ApiKey);
        var mine = (await SubmitAsync(shop, "t1")).GetProperty("id").GetString()!;
        var theirs = (await SubmitAsync(other, "t1")).GetProperty("id").GetString()!;
        Assert.NotEqual(mine, theirs);
        await WaitForStatusAsync(tpl, mine, "awaiting_shipment");
        await WaitForStatusAsync(tpl, theirs, "awaiting_shipment");

        using var stranger = _app.WithKey(stranger3Pl.ApiKey);
        using var strangerMerchant = _app.WithKey(strangerShop.ApiKey);
        foreach (var client in new[] { stranger, strangerMerchant })
        {
            await ApiAssert.Problem(await client.GetAsync($"/v1/orders/{mine}"), HttpStatusCode.NotFound, "not_found");
            foreach (var action in new[] { "start", "cancel", "cancellation/accept", "cancellation/reject" })
            {
                await ApiAssert.Problem(await client.PostAsync($"/v1/orders/{mine}/{action}", null), HttpStatusCode.NotFound, "not_found");
            }
            await ApiAssert.Problem(await client.PostAsJsonAsync($"/v1/orders/{mine}/ship", new { carrier = "a", service = "b", trackingNumber = "c" }), HttpStatusCode.NotFound, "not_found");
            Assert.Empty(await ListIdsAsync(client));
        }
        await ApiAssert.Problem(await other.GetAsync($"/v1/orders/{mine}"), HttpStatusCode.NotFound, "not_found");
        // List rows follow the routing commit a moment later.
        await Eventually.True(async () => (await ListIdsAsync(other)).SequenceEqual([theirs]), "the other merchant's list");
        await Eventually.True(async () => (await ListIdsAsync(tpl)).Order().SequenceEqual(new[] { mine, theirs }.Order()), "the 3PL's list to show both orders");
        Assert.Equal([mine], await ListIdsAsync(tpl, $"&connectionId={connection}"));

        var scoped = await ApiAssert.Json(await tpl.PostAsJsonAsync("/v1/api-keys", new { name = "WMS for one client", permissions = new[] { "orders:read", "shipments:write" }, connectionId = otherConnection }), HttpStatusCode.Created);
        using var wms = _app.WithKey(scoped.GetProperty("key").GetString()!);
        Assert.Equal([theirs], await ListIdsAsync(wms));
        Assert.Empty(await ListIdsAsync(wms, $"&connectionId={connection}"));
        await ApiAssert.Problem(await wms.GetAsync($"/v1/orders/{mine}"), HttpStatusCode.NotFound, "not_found");
        await ApiAssert.Problem(await wms.PostAsync($"/v1/orders/{mine}/start", null), HttpStatusCode.NotFound, "not_found");
        await ApiAssert.Json(await wms.PostAsync($"/v1/orders/{theirs}/start", null), HttpStatusCode.OK);
    }

    [Fact]
    public async Task Deactivation_hands_back_only_unstarted_orders_and_reactivation_routes_new_ones()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var merchant = await Seed.AccountAsync(_app, "merchant");
        var connection = await Connect.ActiveAsync(_app, threePl, merchant);
        using var shop = _app.WithKey(merchant.ApiKey);
        using var tpl = _app.WithKey(threePl.ApiKey);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await SubmitAsync(shop, $"h{i}")).GetProperty("id").GetString()!);
        }
        foreach (var id in ids)
        {
            await WaitForStatusAsync(tpl, id, "awaiting_shipment");
        }
        await ApiAssert.Json(await tpl.PostAsync($"/v1/orders/{ids[0]}/start", null), HttpStatusCode.OK);
        await ApiAssert.Json(await tpl.PostAsync($"/v1/orders/{ids[1]}/start", null), HttpStatusCode.OK);
        await ApiAssert.Json(await tpl.PostAsJsonAsync($"/v1/orders/{ids[1]}/ship", new { carrier = "DHL", service = "Paket", trackingNumber = "1" }), HttpStatusCode.OK);

        await ApiAssert.Json(await shop.PostAsync($"/v1/connections/{connection}/deactivate", null), HttpStatusCode.OK);
        foreach (var id in ids.Skip(2))
        {
            var back = await WaitForStatusAsync(shop, id, "open");
            Assert.Equal(JsonValueKind.Null, back.GetProperty("connectionId").ValueKind);
            Assert.Equal(3, back.GetProperty("version").GetInt64());
            await ApiAssert.Problem(await tpl.GetAsync($"/v1/orders/{id}"), HttpStatusCode.NotFound, "not_found");
        }
        Assert.Equal("in_progress", (await ApiAssert.Json(await tpl.GetAsync($"/v1/orders/{ids[0]}"), HttpStatusCode.OK)).GetProperty("status").GetString());
        Assert.Equal("shipped", (await ApiAssert.Json(await tpl.GetAsync($"/v1/orders/{ids[1]}"), HttpStatusCode.OK)).GetProperty("status").GetString());
        await Eventually.True(async () => (await ListIdsAsync(tpl)).Order().SequenceEqual(ids.Take(2).Order()), "the 3PL list to drop handed-back orders");
        Assert.Equal(ids.Skip(2).Order(), (await ListIdsAsync(shop, "&status=open")).Order());

        var whileInactive = (await SubmitAsync(shop, "h-inactive")).GetProperty("id").GetString()!;
        await ApiAssert.Problem(await shop.PostAsJsonAsync($"/v1/orders/{whileInactive}/delegate", new { connectionId = connection }), HttpStatusCode.Conflict, "connection_not_active");
        await WaitForRoutingAsync(_app);

        await ApiAssert.Json(await tpl.PostAsync($"/v1/connections/{connection}/reactivate", null), HttpStatusCode.OK);
        var fresh = (await SubmitAsync(shop, "h-new")).GetProperty("id").GetString()!;
        await WaitForStatusAsync(tpl, fresh, "awaiting_shipment");
        foreach (var id in ids.Skip(2))
        {
            Assert.Equal("open", (await ApiAssert.Json(await shop.GetAsync($"/v1/orders/{id}"), HttpStatusCode.OK)).GetProperty("status").GetString());
        }
        Assert.Equal("open", (await ApiAssert.Json(await shop.GetAsync($"/v1/orders/{whileInactive}"), HttpStatusCode.OK)).GetProperty("status").GetString());

        await ApiAssert.Json(await tpl.PostAsync($"/v1/connections/{connection}/disconnect", null), HttpStatusCode.OK);
        await WaitForStatusAsync(shop, fresh, "open");
        Assert.Equal("in_progress", (await ApiAssert.Json(await tpl.GetAsync($"/v1/orders/{ids[0]}"), HttpStatusCode.OK)).GetProperty("status").GetString());
    }
}
