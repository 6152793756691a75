using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using ThreePL.Functions.Tests.Infrastructure;
using ThreePL.Functions.Tests.Webhooks;

namespace ThreePL.Functions.Tests.Security;

/// <summary>
/// The tenant isolation matrix: every operation of the OpenAPI document × every foreign id × every kind of
/// outsider (another merchant, another 3PL, a key scoped to another connection, a "log in to brand" token
/// of another brand). Always 403 or 404, never a byte of the other tenant's data, never a change.
/// </summary>
[Collection("azurite")]
public sealed class TenantIsolationMatrixTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task No_outsider_reaches_a_tenants_resources_through_any_operation()
    {
        await using var receiver = await TestReceiver.StartAsync();
        using var app = new TestApp(azurite);
        var victim = await Tenant.BuildAsync(app, receiver.HookUrl, "victim");
        var outsider = await Tenant.BuildAsync(app, receiver.HookUrl, "outsider");

        // The victim merchant also works with the outsider 3PL: keys scoped to that second connection, and the
        // outsider 3PL's brand token for it, are outsiders to everything of the first connection.
        var shared = await Connect.ActiveAsync(app, outsider.ThreePl, victim.Merchant);
        using var victimShop = app.WithKey(victim.Merchant.ApiKey);
        var scoped = (await ApiAssert.Json(await victimShop.PostAsJsonAsync("/v1/api-keys", new { name = "scoped", permissions = new[] { "*" }, connectionId = shared }), HttpStatusCode.Created)).GetProperty("key").GetString()!;
        using var outsiderTpl = app.WithKey(outsider.ThreePl.ApiKey);
        var brandToken = (await ApiAssert.Json(await outsiderTpl.PostAsync($"/v1/connections/{shared}/impersonation", null), HttpStatusCode.Created)).GetProperty("token").GetString()!;
        var outsiderBrandToken = (await ApiAssert.Json(await outsiderTpl.PostAsync($"/v1/connections/{outsider.ConnectionId}/impersonation", null), HttpStatusCode.Created)).GetProperty("token").GetString()!;

        // Whether the caller legitimately knows the victim merchant (through the shared connection).
        var callers = new (string Name, string Key, bool KnowsMerchant)[]
        {
            ("other merchant", outsider.Merchant.ApiKey, false),
            ("other 3PL", outsider.ThreePl.ApiKey, true),
            ("victim merchant's key scoped to another connection", scoped, true),
            ("other 3PL logged in to the victim merchant for another connection", brandToken, true),
            ("other 3PL logged in to its own brand", outsiderBrandToken, false),
        };
        var operations = await ApiSurface.ReadAsync(app);
        var before = await StorageSnapshot.StableAsync(azurite, app.Prefix);

        using var client = app.CreateClient();
        var failures = new List<string>();
        var count = 0;
        foreach (var op in operations.Where(o => !o.IsAdmin))
        {
            foreach (var (name, key, knowsMerchant) in callers)
            {
                var path = op.HasId ? op.With(victim.IdFor(op.Path)) : op.Path;
                if (!op.HasId && op.QueryParameters.Contains("connectionId"))
                {
                    path += $"?connectionId={victim.ConnectionId}";
                }
                using var request = new HttpRequestMessage(new HttpMethod(op.Method), path);
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                if (op.HasBody)
                {
                    request.Content = new StringContent(ValidBody(op, outsider), Encoding.UTF8, "application/json");
                }
                using var response = await client.SendAsync(request);
                count++;
                var body = await response.Content.ReadAsStringAsync();
                var status = (int)response.StatusCode;
                var leaked = victim.Secrets(knowsMerchant).FirstOrDefault(s => body.Contains(s, StringComparison.Ordinal));
                if (op.HasId && status is not (403 or 404))
                {
                    failures.Add($"{op} as {name} → {status} {body[..Math.Min(160, body.Length)]}");
                }
                else if (status >= 500 || leaked is not null)
                {
                    failures.Add($"{op} as {name} → {status}, leaked {leaked}");
                }
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {count} outsider requests got through:\n{string.Join('\n', failures.Take(40))}");
        Assert.True(count >= 150, $"Only {count} requests.");
        var after = await StorageSnapshot.TakeAsync(azurite.Tables, app.Prefix);
        // Outsiders may change their own things (a PUT of their own routing rules); nothing of the victim may change,
        // except that requests made with a brand token are audited, which is the point of auditing them.
        var victimIds = victim.Secrets(knowsMerchant: false);
        var changed = before.Except(after).Concat(after.Except(before))
            .Where(r => victimIds.Any(id => r.Contains(id, StringComparison.Ordinal)) && !r.Contains("impersonation.request", StringComparison.Ordinal))
            .ToList();
        Assert.True(changed.Count == 0, "Rows changed:\n" + string.Join('\n', changed.Take(10)));
    }

    /// <summary>A body that passes validation, so the answer is about who may act, not about the input.</summary>
    private static string ValidBody(ApiOperation op, Tenant outsider) => op.Path switch
    {
        var p when p.EndsWith("/settings", StringComparison.Ordinal) => "{\"manageOrders\":false}",
        var p when p.EndsWith("/approve", StringComparison.Ordinal) => "{\"confirm\":true}",
        var p when p.EndsWith("/delegate", StringComparison.Ordinal) => $"{{\"connectionId\":\"{outsider.ConnectionId}\"}}",
        var p when p.EndsWith("/ship", StringComparison.Ordinal) => "{\"carrier\":\"DHL\",\"service\":\"Paket\",\"trackingNumber\":\"1\"}",
        var p when p.StartsWith("/v1/api-keys/", StringComparison.Ordinal) => "{\"enabled\":false}",
        var p when p.EndsWith("/inventory", StringComparison.Ordinal) => "{\"items\":[{\"sku\":\"SKU-1\",\"onHand\":5}]}",
        var p when p.EndsWith("/support-tickets", StringComparison.Ordinal) => "{\"subject\":\"Lost parcel\",\"message\":\"Where is it?\"}",
        var p when p.EndsWith("/messages", StringComparison.Ordinal) => "{\"message\":\"Any news?\"}",
        _ => "{}",
    };


    private sealed record Tenant(SeededAccount ThreePl, SeededAccount Merchant, string ConnectionId, string OrderId, string KeyId, string EndpointId, string DeliveryId, string TicketId)
    {
        /// <summary>Strings that must never appear in an answer to an outsider.</summary>
        public string[] Secrets(bool knowsMerchant) => knowsMerchant
            ? [ThreePl.Id, ThreePl.Email, ConnectionId, OrderId, KeyId, EndpointId, DeliveryId, TicketId]
            : [ThreePl.Id, ThreePl.Email, Merchant.Id, Merchant.Email, ConnectionId, OrderId, KeyId, EndpointId, DeliveryId, TicketId];

        public string IdFor(string path) => path switch
        {
            _ when path.StartsWith("/v1/connections/", StringComparison.Ordinal) => ConnectionId,
            _ when path.StartsWith("/v1/orders/", StringComparison.Ordinal) => OrderId,
            _ when path.StartsWith("/v1/api-keys/", StringComparison.Ordinal) => KeyId,
            _ when path.StartsWith("/v1/webhook-endpoints/", StringComparison.Ordinal) => EndpointId,
            _ when path.StartsWith("/v1/webhook-deliveries/", StringComparison.Ordinal) => DeliveryId,
            _ when path.StartsWith("/v1/support-tickets/", StringComparison.Ordinal) => TicketId,
            _ => throw new InvalidOperationException($"The isolation matrix has no resource for {path}: add one to Tenant."),
        };

        public static async Task<Tenant> BuildAsync(TestApp app, string hookUrl, string name)
        {
            var threePl = await Seed.AccountAsync(app, "threepl");
            var merchant = await Seed.AccountAsync(app, "merchant");
            var connection = await Connect.ActiveAsync(app, threePl, merchant);
            using var shop = app.WithKey(merchant.ApiKey);
            using var tpl = app.WithKey(threePl.ApiKey);
            var endpoint = await ApiAssert.Json(await tpl.PostAsJsonAsync("/v1/webhook-endpoints", new { url = hookUrl, eventTypes = new[] { "order.created" } }), HttpStatusCode.Created);
            var order = await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/orders", new
            {
                externalId = $"{name}-1",
                lines = new[] { new { sku = "SKU-1", quantity = 1 } },
                shipTo = new { name = "Ada", line1 = "Main St 1", city = "Berlin", postalCode = "10115", countryCode = "DE" },
            }), HttpStatusCode.Created);
            var key = await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/api-keys", new { name = "wms", permissions = new[] { "orders:read" } }), HttpStatusCode.Created);
            var delivery = await Eventually.Get(async () =>
            {
                var items = (await ApiAssert.Json(await tpl.GetAsync("/v1/webhook-deliveries?status=succeeded"), HttpStatusCode.OK)).GetProperty("items");
                return items.GetArrayLength() == 1 ? items[0].GetProperty("id").GetString() : null;
            }, "the order.created delivery");
            var orderId = order.GetProperty("id").GetString()!;
            await Eventually.True(async () => (await ApiAssert.Json(await shop.GetAsync($"/v1/orders/{orderId}"), HttpStatusCode.OK)).GetProperty("status").GetString() == "awaiting_shipment", "the order to be routed");
            var ticket = await ApiAssert.Json(await tpl.PostAsJsonAsync($"/v1/orders/{orderId}/support-tickets", new { subject = "Lost parcel", message = "No scan since Monday." }), HttpStatusCode.Created);
            return new Tenant(threePl, merchant, connection, orderId, key.GetProperty("id").GetString()!, endpoint.GetProperty("id").GetString()!, delivery, ticket.GetProperty("id").GetString()!);
        }
    }
}
