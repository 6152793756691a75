using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Api;

/// <summary>
/// A PUT or PATCH changes stored data, so a body with a misspelt or missing field is a 400 naming the field and
/// changes nothing; it is never read as "replace with nothing" or as a request to change nothing.
/// </summary>
[Collection("azurite")]
public sealed partial class ExactBodiesTests(AzuriteFixture azurite)
{
    // Using a key updates its lastUsedAt, which is bookkeeping, not the data under test.
    [GeneratedRegex("\"lastUsedAt\":(null|\"[^\"]*\")")]
    private static partial Regex LastUsed();

    [Fact]
    public async Task Every_put_and_patch_refuses_a_misspelt_or_missing_field_and_keeps_the_stored_data()
    {
        using var app = new TestApp(azurite);
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var connection = await Connect.ActiveAsync(app, threePl, merchant);
        using var shop = app.WithKey(merchant.ApiKey);
        using var tpl = app.WithKey(threePl.ApiKey);
        await ApiAssert.Json(await shop.PutAsJsonAsync("/v1/routing-rules", new { rules = new object[] { new { type = "skuPrefix", skuPrefixes = new[] { "W-" }, connectionId = connection } } }), HttpStatusCode.OK);
        await ApiAssert.Json(await tpl.PutAsJsonAsync("/v1/carrier-accounts", new { accounts = new[] { new { carrier = "DHL", services = new[] { "express" } } } }), HttpStatusCode.OK);
        await ApiAssert.Json(await tpl.PutAsJsonAsync($"/v1/connections/{connection}/inventory", new { items = new[] { new { sku = "W-1", onHand = 5 } } }), HttpStatusCode.OK);
        var keyId = (await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/api-keys", new { name = "r", permissions = new[] { "orders:read" } }), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        var before = await StateAsync();

        (HttpClient Client, HttpMethod Method, string Path, string Body, string Field)[] cases =
        [
            (shop, HttpMethod.Put, "/v1/routing-rules", """{"rulez":[]}""", "rulez"),
            (shop, HttpMethod.Put, "/v1/routing-rules", """{}""", "rules"),
            (shop, HttpMethod.Put, "/v1/routing-rules", """{"rules":[{"type":"skuPrefix","skuPrefixes":["X"],"connectionId":"x","conectionId":"y"}]}""", "rules[0].conectionId"),
            (tpl, HttpMethod.Put, "/v1/carrier-accounts", """{"acounts":[]}""", "acounts"),
            (tpl, HttpMethod.Put, "/v1/carrier-accounts", """{}""", "accounts"),
            (tpl, HttpMethod.Put, $"/v1/connections/{connection}/inventory", """{"itemz":[{"sku":"W-1","onHand":0}]}""", "itemz"),
            (tpl, HttpMethod.Put, $"/v1/connections/{connection}/inventory", """{}""", "items"),
            (tpl, HttpMethod.Patch, $"/v1/connections/{connection}/settings", """{"manageOrder":false}""", "manageOrder"),
            (shop, HttpMethod.Patch, $"/v1/api-keys/{keyId}", """{"enable":false}""", "enable"),
            (shop, HttpMethod.Patch, $"/v1/api-keys/{keyId}", """{}""", "enabled"),
        ];
        foreach (var (client, method, path, body, field) in cases)
        {
            var response = await client.SendAsync(new HttpRequestMessage(method, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") });
            var problem = await ApiAssert.Problem(response, HttpStatusCode.BadRequest, "validation_failed");
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{method} {path} {body} did not name '{field}': {problem}");
        }

        Assert.Equal(before, await StateAsync());

        async Task<string> StateAsync()
        {
            var parts = new List<string>();
            foreach (var (client, path) in new[] { (shop, "/v1/routing-rules"), (tpl, "/v1/carrier-accounts"), (shop, "/v1/inventory"), (tpl, $"/v1/connections/{connection}/settings"), (shop, "/v1/api-keys") })
            {
                var json = await ApiAssert.Json(await client.GetAsync(path), HttpStatusCode.OK);
                parts.Add(LastUsed().Replace(JsonSerializer.Serialize(json), ""));
            }
            return string.Join('\n', parts);
        }
    }
}
