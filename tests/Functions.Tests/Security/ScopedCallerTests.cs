using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ThreePL.Functions.Tests.Infrastructure;
using ThreePL.Functions.Tests.Orders;

namespace ThreePL.Functions.Tests.Security;

/// <summary>
/// A key scoped to one connection, and a "log in to brand" token, see and touch only what belongs to that connection.
/// Every operation of the document is listed here with what a scoped caller gets — refused (403
/// <c>scoped_key_not_allowed</c>) because it is account-wide, or filtered to the connection — so an endpoint cannot be
/// added without that decision; and nothing any operation answers a scoped caller names the merchant's other 3PL.
/// </summary>
[Collection("azurite")]
public sealed class ScopedCallerTests(AzuriteFixture azurite)
{
    private const string Refused = "refused";
    private const string Filtered = "filtered";

    private static readonly Dictionary<string, string> Decisions = new(StringComparer.Ordinal)
    {
        ["GET /v1/account"] = Filtered,
        ["POST /v1/api-keys"] = Filtered,
        ["GET /v1/api-keys"] = Filtered,
        ["PATCH /v1/api-keys/{id}"] = Filtered,
        ["DELETE /v1/api-keys/{id}"] = Filtered,
        ["POST /v1/connections"] = Refused,
        ["GET /v1/connections"] = Filtered,
        ["GET /v1/connections/{id}"] = Filtered,
        ["POST /v1/connections/{id}/approve"] = Filtered,
        ["POST /v1/connections/{id}/decline"] = Filtered,
        ["POST /v1/connections/{id}/cancel"] = Filtered,
        ["POST /v1/connections/{id}/deactivate"] = Filtered,
        ["POST /v1/connections/{id}/reactivate"] = Filtered,
        ["POST /v1/connections/{id}/disconnect"] = Filtered,
        ["GET /v1/connections/{id}/settings"] = Filtered,
        ["PATCH /v1/connections/{id}/settings"] = Filtered,
        ["POST /v1/connections/{id}/webhook-secret"] = Filtered,
        ["POST /v1/connections/{id}/impersonation"] = Filtered,
        ["PUT /v1/connections/{id}/inventory"] = Filtered,
        ["POST /v1/brands"] = Refused,
        ["POST /v1/orders"] = Refused,
        ["GET /v1/orders"] = Filtered,
        ["GET /v1/orders/{id}"] = Filtered,
        ["POST /v1/orders/{id}/delegate"] = Filtered,
        ["POST /v1/orders/{id}/cancel"] = Filtered,
        ["POST /v1/orders/{id}/cancellation/accept"] = Filtered,
        ["POST /v1/orders/{id}/cancellation/reject"] = Filtered,
        ["POST /v1/orders/{id}/start"] = Filtered,
        ["POST /v1/orders/{id}/ship"] = Filtered,
        ["POST /v1/orders/{id}/accept"] = Filtered,
        ["POST /v1/orders/{id}/reject"] = Filtered,
        ["POST /v1/orders/{id}/holds"] = Filtered,
        ["POST /v1/orders/{id}/holds/{holdId}/release"] = Filtered,
        ["POST /v1/orders/{id}/support-tickets"] = Filtered,
        ["GET /v1/orders/{id}/support-tickets"] = Filtered,
        ["GET /v1/support-tickets/{id}"] = Filtered,
        ["POST /v1/support-tickets/{id}/messages"] = Filtered,
        ["PUT /v1/routing-rules"] = Refused,
        ["GET /v1/routing-rules"] = Refused,
        ["PUT /v1/carrier-accounts"] = Refused,
        ["GET /v1/carrier-accounts"] = Refused,
        ["GET /v1/inventory"] = Filtered,
        ["GET /v1/billing/usage"] = Filtered,
        ["POST /v1/webhook-endpoints"] = Refused,
        ["GET /v1/webhook-endpoints"] = Refused,
        ["GET /v1/webhook-endpoints/{id}"] = Refused,
        ["DELETE /v1/webhook-endpoints/{id}"] = Refused,
        ["GET /v1/webhook-deliveries"] = Filtered,
        ["GET /v1/webhook-deliveries/{id}"] = Filtered,
        ["POST /v1/webhook-deliveries/{id}/retry"] = Filtered,
        ["POST /v1/webhook-deliveries/recover"] = Filtered,
        ["GET /v1/events"] = Filtered,
        ["GET /v1/audit-events"] = Filtered,
    };

    [Fact]
    public async Task Every_operation_refuses_or_filters_a_scoped_caller_and_none_reveals_the_merchants_other_3pl()
    {
        using var app = new TestApp(azurite);
        var merchant = await Seed.AccountAsync(app, "merchant");
        var mine = await Seed.AccountAsync(app, "threepl");
        var competitor = await Seed.AccountAsync(app, "threepl");
        var connection = await Connect.ActiveAsync(app, mine, merchant);
        var competing = await Connect.ActiveAsync(app, competitor, merchant);
        using var shop = app.WithKey(merchant.ApiKey);
        using var tpl = app.WithKey(mine.ApiKey);
        using var rival = app.WithKey(competitor.ApiKey);
        // The order goes to the competitor first: the merchant opens a ticket with it, it rejects, and the order is
        // re-routed to this connection with the competitor's rejection and ticket on record.
        await ApiAssert.Json(await rival.PatchJson($"/v1/connections/{competing}/settings", new { supportTickets = "merchant" }), HttpStatusCode.OK);
        await ApiAssert.Json(await shop.PutAsJsonAsync("/v1/routing-rules", new
        {
            rules = new[] { new { type = "skuPrefix", skuPrefixes = new[] { "MINE-" }, connectionId = competing } },
        }), HttpStatusCode.OK);
        var order = (await OrderTestKit.SubmitAsync(shop, "scope-1", sku: "MINE-1")).GetProperty("id").GetString()!;
        await OrderTestKit.WaitForStatusAsync(rival, order, "awaiting_shipment");
        var competingTicket = (await ApiAssert.Json(await shop.PostAsJsonAsync($"/v1/orders/{order}/support-tickets", new { subject = "RivalTicketSubject", message = "RivalTicketBody" }), HttpStatusCode.Created))
            .GetProperty("id").GetString()!;
        await ApiAssert.Json(await shop.PutAsJsonAsync("/v1/routing-rules", new
        {
            rules = new object[]
            {
                new { type = "skuPrefix", skuPrefixes = new[] { "MINE-" }, connectionId = connection },
                new { type = "skuPrefix", skuPrefixes = new[] { "THEIRS-" }, connectionId = competing },
            },
        }), HttpStatusCode.OK);
        await ApiAssert.Json(await shop.PutAsJsonAsync("/v1/carrier-accounts", new { accounts = new[] { new { carrier = "SecretCarrierCo", services = new[] { "express" } } } }), HttpStatusCode.OK);
        await ApiAssert.Json(await rival.PostAsJsonAsync($"/v1/orders/{order}/reject", new { reason = "other", message = "RivalRejectionMessage" }), HttpStatusCode.OK);
        await OrderTestKit.WaitForStatusAsync(tpl, order, "awaiting_shipment");
        var scopedKey = await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/api-keys", new { name = "wms", permissions = new[] { "*" }, connectionId = connection }), HttpStatusCode.Created);
        var sibling = (await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/api-keys", new { name = "sibling", permissions = new[] { "orders:read" }, connectionId = connection }), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        var brandToken = (await ApiAssert.Json(await tpl.PostAsync($"/v1/connections/{connection}/impersonation", null), HttpStatusCode.Created)).GetProperty("token").GetString()!;
        string[] secrets = [competing, competitor.Id, competitor.Email, "THEIRS-", "SecretCarrierCo", "RivalRejectionMessage", competingTicket, "RivalTicketSubject"];

        var operations = (await ApiSurface.ReadAsync(app)).Where(o => !o.IsAdmin).ToList();
        var undecided = operations.Select(o => o.ToString()).Where(o => !Decisions.ContainsKey(o)).ToList();
        Assert.True(undecided.Count == 0, "Operations without a decision for scoped callers (add them to Decisions): " + string.Join(", ", undecided));

        using var client = app.CreateClient();
        var failures = new List<string>();
        // Deactivating or disconnecting revokes the brand token and ends the connection: those go last.
        foreach (var op in operations.OrderBy(o => o.Path.EndsWith("/deactivate", StringComparison.Ordinal) || o.Path.EndsWith("/disconnect", StringComparison.Ordinal)))
        {
            var refused = Decisions[op.ToString()] == Refused;
            foreach (var (who, token) in new[] { ("scoped key", scopedKey.GetProperty("key").GetString()!), ("brand token", brandToken) })
            {
                var path = op.HasId ? op.With(IdFor(op.Path, connection, order, sibling, competingTicket)) : op.Path;
                using var request = new HttpRequestMessage(new HttpMethod(op.Method), path);
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                if (op.HasBody)
                {
                    request.Content = new StringContent(Body(op, connection), Encoding.UTF8, "application/json");
                }
                using var response = await client.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                var code = response.Content.Headers.ContentType?.MediaType == "application/problem+json" ? JsonDocument.Parse(body).RootElement.GetProperty("code").GetString() : null;
                if (secrets.FirstOrDefault(s => body.Contains(s, StringComparison.Ordinal)) is { } leaked)
                {
                    failures.Add($"{op} as {who} revealed {leaked}: {body[..Math.Min(200, body.Length)]}");
                }
                // A brand token lacks some permissions; the permission check may answer first, never a success.
                var refusedAsDeclared = response.StatusCode == HttpStatusCode.Forbidden && (code == "scoped_key_not_allowed" || (who == "brand token" && code == "missing_permission"));
                if (refused && !refusedAsDeclared)
                {
                    failures.Add($"{op} as {who}: declared refused, got {(int)response.StatusCode} {code}");
                }
                if (!refused && code == "scoped_key_not_allowed")
                {
                    failures.Add($"{op} as {who}: declared filtered, got scoped_key_not_allowed");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    private static string IdFor(string path, string connection, string order, string key, string ticket) => path switch
    {
        _ when path.StartsWith("/v1/connections/", StringComparison.Ordinal) => connection,
        _ when path.StartsWith("/v1/orders/", StringComparison.Ordinal) => order,
        _ when path.StartsWith("/v1/api-keys/", StringComparison.Ordinal) => key,
        _ when path.StartsWith("/v1/webhook-endpoints/", StringComparison.Ordinal) => "whe_00000000000000000000",
        _ when path.StartsWith("/v1/webhook-deliveries/", StringComparison.Ordinal) => "dlv_00000000000000000000",
        _ => ticket,
    };

    /// <summary>Bodies that pass validation, so each answer is about who may act.</summary>
    private static string Body(ApiOperation op, string connection) => op.ToString() switch
    {
        "POST /v1/api-keys" => "{\"name\":\"sub\",\"permissions\":[\"orders:read\"]}",
        "POST /v1/connections" => "{\"email\":\"someone@example.com\"}",
        "PATCH /v1/connections/{id}/settings" => "{\"internalCustomerId\":\"C-1\"}",
        "POST /v1/connections/{id}/approve" => "{\"confirm\":true}",
        "PUT /v1/connections/{id}/inventory" => "{\"items\":[{\"sku\":\"MINE-1\",\"onHand\":5}]}",
        "POST /v1/orders" => "{\"externalId\":\"scope-2\",\"lines\":[{\"sku\":\"MINE-2\",\"quantity\":1}],\"shipTo\":{\"name\":\"Ada\",\"line1\":\"Main St 1\",\"city\":\"Berlin\",\"postalCode\":\"10115\",\"countryCode\":\"DE\"}}",
        "POST /v1/orders/{id}/delegate" => $"{{\"connectionId\":\"{connection}\"}}",
        "POST /v1/orders/{id}/ship" => "{\"carrier\":\"DHL\",\"service\":\"express\",\"trackingNumber\":\"1\"}",
        "POST /v1/orders/{id}/reject" => "{\"reason\":\"other\"}",
        "POST /v1/orders/{id}/holds" => "{\"reason\":\"other\"}",
        "POST /v1/orders/{id}/support-tickets" => "{\"subject\":\"Lost parcel\",\"message\":\"Where is it?\"}",
        "POST /v1/support-tickets/{id}/messages" => "{\"message\":\"Any news?\"}",
        "PUT /v1/routing-rules" => "{\"rules\":[]}",
        "PUT /v1/carrier-accounts" => "{\"accounts\":[]}",
        "POST /v1/webhook-endpoints" => "{\"url\":\"https://hooks.example.com/x\"}",
        "POST /v1/webhook-deliveries/recover" => $"{{\"connectionId\":\"{connection}\",\"since\":\"2026-01-01T00:00:00Z\"}}",
        "POST /v1/brands" => "{}",
        "PATCH /v1/api-keys/{id}" => "{\"enabled\":true}",
        _ => "{}",
    };
}
