using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ThreePL.Functions.Tests.Infrastructure;
using static ThreePL.Functions.Tests.Orders.OrderTestKit;

namespace ThreePL.Functions.Tests.SupportTickets;

[Collection("azurite")]
public sealed class SupportTicketTests(AzuriteFixture azurite) : IDisposable
{
    private readonly TestApp _app = new(azurite);

    public void Dispose() => _app.Dispose();

    private sealed record Parties(SeededAccount ThreePl, SeededAccount Merchant, string Connection, HttpClient Tpl, HttpClient Shop) : IDisposable
    {
        public void Dispose()
        {
            Tpl.Dispose();
            Shop.Dispose();
        }
    }

    private async Task<Parties> ConnectAsync(string? supportTickets = null)
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var merchant = await Seed.AccountAsync(_app, "merchant");
        var connection = await Connect.ActiveAsync(_app, threePl, merchant);
        var parties = new Parties(threePl, merchant, connection, _app.WithKey(threePl.ApiKey), _app.WithKey(merchant.ApiKey));
        if (supportTickets is not null)
        {
            await ApiAssert.Json(await parties.Tpl.PatchJson($"/v1/connections/{connection}/settings", new { supportTickets }), HttpStatusCode.OK);
        }
        return parties;
    }

    private static async Task<string> DelegatedOrderAsync(Parties p, string externalId)
    {
        var id = (await SubmitAsync(p.Shop, externalId)).GetProperty("id").GetString()!;
        await WaitForStatusAsync(p.Tpl, id, "awaiting_shipment");
        return id;
    }

    private static Task<HttpResponseMessage> OpenAsync(HttpClient client, string orderId, string subject = "Parcel lost", string message = "The carrier shows no scan since Monday.") =>
        client.PostAsJsonAsync($"/v1/orders/{orderId}/support-tickets", new { subject, message });

    private static Task<HttpResponseMessage> AnswerAsync(HttpClient client, string ticketId, string message) =>
        client.PostAsJsonAsync($"/v1/support-tickets/{ticketId}/messages", new { message });

    private static async Task<List<JsonElement>> ListAsync(HttpClient client, string orderId) =>
        (await ApiAssert.Json(await client.GetAsync($"/v1/orders/{orderId}/support-tickets"), HttpStatusCode.OK)).GetProperty("items").EnumerateArray().Select(e => e.Clone()).ToList();

    [Fact]
    public async Task Under_the_default_snapshot_the_3pl_opens_and_answers_and_the_merchant_reads()
    {
        using var p = await ConnectAsync();
        var order = await DelegatedOrderAsync(p, "t-1");

        await ApiAssert.Problem(await OpenAsync(p.Shop, order), HttpStatusCode.Forbidden, "support_tickets_handled_by_other_party");
        var opened = await ApiAssert.Json(await OpenAsync(p.Tpl, order), HttpStatusCode.Created);
        var ticket = opened.GetProperty("id").GetString()!;
        Assert.StartsWith("tkt_", ticket);
        Assert.Equal("threepl", opened.GetProperty("openedBy").GetString());
        Assert.Equal(p.Connection, opened.GetProperty("connectionId").GetString());

        await ApiAssert.Problem(await AnswerAsync(p.Shop, ticket, "Any news?"), HttpStatusCode.Forbidden, "support_tickets_handled_by_other_party");
        var answered = await ApiAssert.Json(await AnswerAsync(p.Tpl, ticket, "Carrier replied:\nparcel found, redelivery tomorrow."), HttpStatusCode.Created);
        Assert.Equal(2, answered.GetProperty("messageCount").GetInt32());
        Assert.Equal("Carrier replied:\nparcel found, redelivery tomorrow.", answered.GetProperty("messages")[1].GetProperty("message").GetString());

        var seenByShop = Assert.Single(await ListAsync(p.Shop, order));
        Assert.Equal(ticket, seenByShop.GetProperty("id").GetString());
        Assert.Equal(2, seenByShop.GetProperty("messages").GetArrayLength());
        Assert.All(seenByShop.GetProperty("messages").EnumerateArray(), m => Assert.Equal("threepl", m.GetProperty("author").GetString()));
        Assert.Equal(2, (await ApiAssert.Json(await p.Shop.GetAsync($"/v1/support-tickets/{ticket}"), HttpStatusCode.OK)).GetProperty("messageCount").GetInt32());

        // Settings changed after delegation do not move the tickets of this order.
        await ApiAssert.Json(await p.Tpl.PatchJson($"/v1/connections/{p.Connection}/settings", new { supportTickets = "merchant" }), HttpStatusCode.OK);
        await ApiAssert.Problem(await AnswerAsync(p.Shop, ticket, "Let me answer now?"), HttpStatusCode.Forbidden, "support_tickets_handled_by_other_party");
        await ApiAssert.Json(await AnswerAsync(p.Tpl, ticket, "Still mine."), HttpStatusCode.Created);
    }

    [Fact]
    public async Task Under_a_merchant_snapshot_the_3pl_is_refused_and_only_reads()
    {
        using var p = await ConnectAsync(supportTickets: "merchant");
        var order = await DelegatedOrderAsync(p, "t-2");
        await ApiAssert.Json(await p.Tpl.PostAsync($"/v1/orders/{order}/start", null), HttpStatusCode.OK);

        await ApiAssert.Problem(await OpenAsync(p.Tpl, order), HttpStatusCode.Forbidden, "support_tickets_handled_by_other_party");
        var ticket = (await ApiAssert.Json(await OpenAsync(p.Shop, order, "Damaged", "Box arrived crushed."), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        await ApiAssert.Problem(await AnswerAsync(p.Tpl, ticket, "We'll look"), HttpStatusCode.Forbidden, "support_tickets_handled_by_other_party");
        await ApiAssert.Json(await AnswerAsync(p.Shop, ticket, "Photos attached in the carrier portal."), HttpStatusCode.Created);
        var seenByTpl = Assert.Single(await ListAsync(p.Tpl, order));
        Assert.Equal("merchant", seenByTpl.GetProperty("openedBy").GetString());
        Assert.Equal(2, seenByTpl.GetProperty("messages").GetArrayLength());
    }

    [Fact]
    public async Task Parties_who_cannot_see_the_order_get_404_and_undelegated_orders_have_no_new_tickets()
    {
        using var p = await ConnectAsync();
        using var other = await ConnectAsync();
        var order = await DelegatedOrderAsync(p, "t-3");
        var ticket = (await ApiAssert.Json(await OpenAsync(p.Tpl, order), HttpStatusCode.Created)).GetProperty("id").GetString()!;

        foreach (var stranger in new[] { other.Tpl, other.Shop })
        {
            await ApiAssert.Problem(await stranger.GetAsync($"/v1/orders/{order}/support-tickets"), HttpStatusCode.NotFound, "not_found");
            await ApiAssert.Problem(await OpenAsync(stranger, order), HttpStatusCode.NotFound, "not_found");
            await ApiAssert.Problem(await stranger.GetAsync($"/v1/support-tickets/{ticket}"), HttpStatusCode.NotFound, "not_found");
            await ApiAssert.Problem(await AnswerAsync(stranger, ticket, "hi"), HttpStatusCode.NotFound, "not_found");
        }

        // An order still with the merchant has nobody to open a carrier ticket with.
        using var lonely = _app.WithKey((await Seed.AccountAsync(_app, "merchant")).ApiKey);
        var open = (await SubmitAsync(lonely, "t-open")).GetProperty("id").GetString()!;
        await ApiAssert.Problem(await OpenAsync(lonely, open), HttpStatusCode.Conflict, "order_not_delegated");
        Assert.Empty(await ListAsync(lonely, open));

        // Handed back: the merchant still reads the ticket, nobody answers it, the 3PL no longer sees the order.
        await ApiAssert.Json(await p.Shop.PostAsync($"/v1/connections/{p.Connection}/deactivate", null), HttpStatusCode.OK);
        await WaitForStatusAsync(p.Shop, order, "open");
        Assert.Single(await ListAsync(p.Shop, order));
        await ApiAssert.Problem(await AnswerAsync(p.Shop, ticket, "hello?"), HttpStatusCode.Conflict, "ticket_closed");
        await ApiAssert.Problem(await OpenAsync(p.Shop, order), HttpStatusCode.Conflict, "order_not_delegated");
        await ApiAssert.Problem(await p.Tpl.GetAsync($"/v1/support-tickets/{ticket}"), HttpStatusCode.NotFound, "not_found");
        await ApiAssert.Problem(await AnswerAsync(p.Tpl, ticket, "hi"), HttpStatusCode.NotFound, "not_found");
    }

    /// <summary>
    /// The merchant opened a ticket with the first 3PL, which then rejected the order; re-routed to the second 3PL, the
    /// merchant's key scoped to the second connection and the second 3PL's brand token act for that connection only, so
    /// the first connection's ticket is not theirs to list, read or answer. The merchant's own key still sees it.
    /// </summary>
    [Fact]
    public async Task A_caller_scoped_to_a_connection_sees_only_that_connections_tickets()
    {
        var merchant = await Seed.AccountAsync(_app, "merchant");
        var first = await Seed.AccountAsync(_app, "threepl");
        var second = await Seed.AccountAsync(_app, "threepl");
        var toFirst = await Connect.ActiveAsync(_app, first, merchant);
        var toSecond = await Connect.ActiveAsync(_app, second, merchant);
        using var shop = _app.WithKey(merchant.ApiKey);
        using var firstTpl = _app.WithKey(first.ApiKey);
        using var secondTpl = _app.WithKey(second.ApiKey);
        await ApiAssert.Json(await firstTpl.PatchJson($"/v1/connections/{toFirst}/settings", new { supportTickets = "merchant" }), HttpStatusCode.OK);
        await ApiAssert.Json(await shop.PutAsJsonAsync("/v1/routing-rules", new
        {
            rules = new[] { new { type = "skuPrefix", skuPrefixes = new[] { "A-" }, connectionId = toFirst } },
            defaultConnectionId = toSecond,
        }), HttpStatusCode.OK);
        var order = (await SubmitAsync(shop, "t-scoped", sku: "A-1")).GetProperty("id").GetString()!;
        await WaitForStatusAsync(firstTpl, order, "awaiting_shipment");
        var ticket = (await ApiAssert.Json(await OpenAsync(shop, order, "First 3PL only", "A matter between us and the first 3PL."), HttpStatusCode.Created))
            .GetProperty("id").GetString()!;
        await ApiAssert.Json(await firstTpl.PostAsJsonAsync($"/v1/orders/{order}/reject", new { reason = "other" }), HttpStatusCode.OK);
        await WaitForStatusAsync(secondTpl, order, "awaiting_shipment");

        var scopedKey = (await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/api-keys", new { name = "second", permissions = new[] { "*" }, connectionId = toSecond }), HttpStatusCode.Created))
            .GetProperty("key").GetString()!;
        var brandToken = (await ApiAssert.Json(await secondTpl.PostAsync($"/v1/connections/{toSecond}/impersonation", null), HttpStatusCode.Created)).GetProperty("token").GetString()!;
        foreach (var scoped in new[] { _app.WithKey(scopedKey), _app.WithKey(brandToken) })
        {
            using (scoped)
            {
                Assert.Empty(await ListAsync(scoped, order));
                await ApiAssert.Problem(await scoped.GetAsync($"/v1/support-tickets/{ticket}"), HttpStatusCode.NotFound, "not_found");
                await ApiAssert.Problem(await AnswerAsync(scoped, ticket, "hello?"), HttpStatusCode.NotFound, "not_found");
            }
        }
        Assert.Equal(ticket, Assert.Single(await ListAsync(shop, order)).GetProperty("id").GetString());
        await ApiAssert.Json(await shop.GetAsync($"/v1/support-tickets/{ticket}"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task Tickets_and_messages_are_bounded_also_under_concurrency()
    {
        using var p = await ConnectAsync();
        var order = await DelegatedOrderAsync(p, "t-4");
        var opened = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => OpenAsync(p.Tpl, order, $"Ticket {i}")));
        var created = opened.Count(r => r.StatusCode == HttpStatusCode.Created);
        Assert.All(opened.Where(r => r.StatusCode != HttpStatusCode.Created), r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
        while (created < 20)
        {
            await ApiAssert.Json(await OpenAsync(p.Tpl, order, "More"), HttpStatusCode.Created);
            created++;
        }
        await ApiAssert.Problem(await OpenAsync(p.Tpl, order), HttpStatusCode.Conflict, "too_many_tickets");
        Assert.Equal(20, (await ListAsync(p.Tpl, order)).Count);

        var ticket = (await ApiAssert.Json(opened.First(r => r.StatusCode == HttpStatusCode.Created), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => AnswerAsync(p.Tpl, ticket, $"update {i}")));
        Assert.All(answers, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.Conflict }));
        var count = (await ApiAssert.Json(await p.Tpl.GetAsync($"/v1/support-tickets/{ticket}"), HttpStatusCode.OK)).GetProperty("messageCount").GetInt32();
        Assert.Equal(1 + answers.Count(r => r.StatusCode == HttpStatusCode.Created), count);
        for (; count < 50; count++)
        {
            await ApiAssert.Json(await AnswerAsync(p.Tpl, ticket, $"more {count}"), HttpStatusCode.Created);
        }
        await ApiAssert.Problem(await AnswerAsync(p.Tpl, ticket, "one too many"), HttpStatusCode.Conflict, "too_many_messages");
        var full = await ApiAssert.Json(await p.Tpl.GetAsync($"/v1/support-tickets/{ticket}"), HttpStatusCode.OK);
        Assert.Equal(50, full.GetProperty("messageCount").GetInt32());
        Assert.Equal(Enumerable.Range(1, 50), full.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("number").GetInt32()));
    }

    public static TheoryData<string> HostileOpenBodies => new()
    {
        "{",
        "null",
        "[]",
        "{}",
        "{\"subject\":\"\",\"message\":\"x\"}",
        "{\"subject\":\"x\"}",
        "{\"subject\":\"x\",\"message\":\"   \"}",
        "{\"subject\":5,\"message\":\"x\"}",
        "{\"subject\":\"x\",\"message\":[\"x\"]}",
        "{\"subject\":\"a\\nb\",\"message\":\"x\"}",
        "{\"subject\":\"a\\u0000b\",\"message\":\"x\"}",
        "{\"subject\":\"x\",\"message\":\"a\\u0007b\"}",
        "{\"subject\":\"" + new string('s', 201) + "\",\"message\":\"x\"}",
        "{\"subject\":\"x\",\"message\":\"" + new string('m', 2001) + "\"}",
    };

    public static TheoryData<string> HostileMessageBodies => new()
    {
        "{",
        "null",
        "[]",
        "{}",
        "{\"message\":\"\"}",
        "{\"message\":\"   \"}",
        "{\"message\":5}",
        "{\"message\":{\"text\":\"x\"}}",
        "{\"message\":\"a\\u0000b\"}",
        "{\"message\":\"" + new string('m', 2001) + "\"}",
    };

    [Theory]
    [MemberData(nameof(HostileOpenBodies))]
    public async Task Hostile_bodies_to_open_get_a_4xx_problem_and_create_nothing(string body)
    {
        using var p = await ConnectAsync();
        var order = await DelegatedOrderAsync(p, "t-h");
        await Inventory.InventoryApiTests.AssertClientProblem(await p.Tpl.PostAsync($"/v1/orders/{order}/support-tickets", new StringContent(body, Encoding.UTF8, "application/json")));
        Assert.Empty(await ListAsync(p.Tpl, order));
    }

    [Theory]
    [MemberData(nameof(HostileMessageBodies))]
    public async Task Hostile_bodies_to_answer_get_a_4xx_problem_and_add_nothing(string body)
    {
        using var p = await ConnectAsync();
        var order = await DelegatedOrderAsync(p, "t-m");
        var ticket = (await ApiAssert.Json(await OpenAsync(p.Tpl, order), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        await Inventory.InventoryApiTests.AssertClientProblem(await p.Tpl.PostAsync($"/v1/support-tickets/{ticket}/messages", new StringContent(body, Encoding.UTF8, "application/json")));
        Assert.Equal(1, Assert.Single(await ListAsync(p.Tpl, order)).GetProperty("messageCount").GetInt32());
    }

    [Theory]
    [InlineData("'")]
    [InlineData("tkt_' or PartitionKey ne '")]
    [InlineData("tkt_00000000000000000000")]
    [InlineData("tkt_0000000000000000000'")]
    [InlineData("ord_00000000000000000000")]
    [InlineData("..%2F..%2Fsupport-tickets")]
    [InlineData("%00")]
    public async Task Hostile_ids_are_not_found(string id)
    {
        using var p = await ConnectAsync();
        var escaped = Uri.EscapeDataString(id);
        await ApiAssert.Problem(await p.Tpl.GetAsync($"/v1/support-tickets/{escaped}"), HttpStatusCode.NotFound, "not_found");
        await ApiAssert.Problem(await AnswerAsync(p.Tpl, escaped, "x"), HttpStatusCode.NotFound, "not_found");
        await ApiAssert.Problem(await p.Tpl.GetAsync($"/v1/orders/{escaped}/support-tickets"), HttpStatusCode.NotFound, "not_found");
        await ApiAssert.Problem(await OpenAsync(p.Tpl, escaped), HttpStatusCode.NotFound, "not_found");
    }
}
