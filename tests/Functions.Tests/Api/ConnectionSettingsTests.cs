using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ThreePL.Functions.Tests.Infrastructure;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Tests.Api;

[Collection("azurite")]
public sealed class ConnectionSettingsTests(AzuriteFixture azurite) : IDisposable
{
    private readonly TestApp _app = new(azurite);

    public void Dispose() => _app.Dispose();

    /// <summary>
    /// Every field of the settings PATCH that the server accepts as <c>null</c> (keep, or clear for the texts) is
    /// declared nullable in the document, so a generated client may send what the server takes.
    /// </summary>
    [Fact]
    public async Task Each_settings_field_the_server_takes_as_null_is_nullable_in_the_document()
    {
        var (tpl, _, id) = await ConnectedAsync();
        var properties = ThreePL.Functions.Http.ApiDocumentFunctions.Load()["components"]!["schemas"]!["UpdateConnectionSettingsRequest"]!["properties"]!.AsObject();
        var undeclared = new List<string>();
        foreach (var (name, schema) in properties)
        {
            await ApiAssert.Json(await tpl.PatchAsync($"/v1/connections/{id}/settings",
                new StringContent($"{{\"{name}\":null}}", System.Text.Encoding.UTF8, "application/json")), HttpStatusCode.OK);
            var types = schema!["type"] is System.Text.Json.Nodes.JsonArray array ? array.Select(t => (string?)t).ToList() : [(string?)schema["type"]];
            var enumAllowsNull = schema["enum"] is not System.Text.Json.Nodes.JsonArray values || values.Any(v => v is null);
            if (!types.Contains("null") || !enumAllowsNull)
            {
                undeclared.Add(name);
            }
        }
        Assert.True(undeclared.Count == 0, "Taken as null but not nullable in the document: " + string.Join(", ", undeclared));
    }

    [Fact]
    public async Task Threepl_edits_settings_into_new_versions_and_both_parties_read_them()
    {
        var (tpl, shop, id) = await ConnectedAsync();
        var initial = await ApiAssert.Json(await shop.GetAsync($"/v1/connections/{id}/settings"), HttpStatusCode.OK);
        Assert.Equal(1, initial.GetProperty("version").GetInt32());
        Assert.True(initial.GetProperty("manageOrders").GetBoolean());
        Assert.Equal("threepl", initial.GetProperty("shippingRules").GetString());

        var response = await tpl.PatchJson($"/v1/connections/{id}/settings", new { shippingRules = "merchant", internalCustomerId = "CUST-42", manageOrders = false });
        var updated = await ApiAssert.Json(response, HttpStatusCode.OK);
        Assert.Equal(2, updated.GetProperty("version").GetInt32());
        Assert.Equal("\"2\"", response.Headers.ETag?.Tag);
        Assert.Equal("CUST-42", updated.GetProperty("internalCustomerId").GetString());

        var same = await ApiAssert.Json(await tpl.PatchJson($"/v1/connections/{id}/settings", new { shippingRules = "merchant" }), HttpStatusCode.OK);
        Assert.Equal(2, same.GetProperty("version").GetInt32());

        var read = await ApiAssert.Json(await shop.GetAsync($"/v1/connections/{id}/settings"), HttpStatusCode.OK);
        Assert.Equal("merchant", read.GetProperty("shippingRules").GetString());
        Assert.False(read.GetProperty("manageOrders").GetBoolean());

        await ApiAssert.Problem(await shop.PatchJson($"/v1/connections/{id}/settings", new { manageOrders = true }), HttpStatusCode.Forbidden, "settings_managed_by_threepl");

        var cleared = await ApiAssert.Json(await tpl.PatchJson($"/v1/connections/{id}/settings", new { internalCustomerId = "" }), HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("internalCustomerId").ValueKind);
        Assert.Equal(3, cleared.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task If_match_with_a_stale_version_is_refused_and_changes_nothing()
    {
        var (tpl, _, id) = await ConnectedAsync();
        await ApiAssert.Json(await tpl.PatchJson($"/v1/connections/{id}/settings", new { internalCustomerId = "A" }), HttpStatusCode.OK);

        var stale = new HttpRequestMessage(HttpMethod.Patch, $"/v1/connections/{id}/settings") { Content = JsonContent.Create(new { internalCustomerId = "B" }) };
        stale.Headers.TryAddWithoutValidation("If-Match", "\"1\"");
        await ApiAssert.Problem(await tpl.SendAsync(stale), HttpStatusCode.PreconditionFailed, "precondition_failed");

        var current = new HttpRequestMessage(HttpMethod.Patch, $"/v1/connections/{id}/settings") { Content = JsonContent.Create(new { internalCustomerId = "C" }) };
        current.Headers.TryAddWithoutValidation("If-Match", "\"2\"");
        var ok = await ApiAssert.Json(await tpl.SendAsync(current), HttpStatusCode.OK);
        Assert.Equal("C", ok.GetProperty("internalCustomerId").GetString());
        Assert.Equal(3, ok.GetProperty("version").GetInt32());
    }

    [Theory]
    [InlineData("{\"internalCustomerId\":\"12345678901234567890123456789012345678901234567890123456789012345\"}", "internalCustomerId")]
    [InlineData("{\"shippingRules\":\"nobody\"}", "shippingRules")]
    [InlineData("{\"webhookUrl\":\"not a url\"}", "webhookUrl")]
    [InlineData("{\"webhookUrl\":\"https://10.0.0.5/hook\"}", "webhookUrl")]
    [InlineData("{\"webhookUrl\":\"https://169.254.169.254/latest/meta-data\"}", "webhookUrl")]
    [InlineData("{\"webhookUrl\":\"https://[fe80::1]/hook\"}", "webhookUrl")]
    [InlineData("{\"webhookUrl\":\"https://[::ffff:10.0.0.1]/hook\"}", "webhookUrl")]
    [InlineData("{\"webhookUrl\":\"https://167772161/hook\"}", "webhookUrl")]
    [InlineData("{\"webhookUrl\":\"https://[fd00::1]/hook\"}", "webhookUrl")]
    [InlineData("{\"webhookUrl\":\"http://192.168.1.10/hook\"}", "webhookUrl")]
    [InlineData("{\"webhookUrl\":\"ftp://example.com/hook\"}", "webhookUrl")]
    [InlineData("{\"webhookUrl\":\"https://user:pw@example.com/hook\"}", "webhookUrl")]
    public async Task Invalid_settings_name_the_field_and_change_nothing(string body, string field)
    {
        var (tpl, _, id) = await ConnectedAsync();
        var response = await tpl.PatchAsync($"/v1/connections/{id}/settings", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var problem = await ApiAssert.Problem(response, HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        var read = await ApiAssert.Json(await tpl.GetAsync($"/v1/connections/{id}/settings"), HttpStatusCode.OK);
        Assert.Equal(1, read.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task Webhook_secret_is_shown_once_and_rotation_keeps_the_previous_one_for_a_day()
    {
        var (tpl, shop, id) = await ConnectedAsync();
        var set = await ApiAssert.Json(await tpl.PatchJson($"/v1/connections/{id}/settings", new { webhookUrl = "http://127.0.0.1:9/hook" }), HttpStatusCode.OK);
        var first = set.GetProperty("webhookSecret").GetString()!;
        Assert.StartsWith("whsec_", first, StringComparison.Ordinal);

        foreach (var client in new[] { tpl, shop })
        {
            var read = await client.GetStringAsync($"/v1/connections/{id}/settings");
            Assert.DoesNotContain(first, read, StringComparison.Ordinal);
            Assert.Contains("\"hasWebhookSecret\":true", read, StringComparison.Ordinal);
        }

        var rotated = await ApiAssert.Json(await tpl.PostAsync($"/v1/connections/{id}/webhook-secret", null), HttpStatusCode.Created);
        Assert.NotEqual(first, rotated.GetProperty("secret").GetString());
        var expires = rotated.GetProperty("previousSecretExpiresAt").GetDateTimeOffset();
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromHours(23.9), TimeSpan.FromHours(24.1));
        await ApiAssert.Problem(await shop.PostAsync($"/v1/connections/{id}/webhook-secret", null), HttpStatusCode.Forbidden, "settings_managed_by_threepl");
    }

    [Fact]
    public async Task Without_the_development_setting_plain_http_to_loopback_is_refused()
    {
        using var strict = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:AllowInsecureWebhooks"] = "false" });
        var threePl = await Seed.AccountAsync(strict, "threepl");
        var merchant = await Seed.AccountAsync(strict, "merchant");
        var id = await Connect.ActiveAsync(strict, threePl, merchant);
        using var tpl = strict.WithKey(threePl.ApiKey);
        foreach (var url in new[] { "http://127.0.0.1:9/hook", "https://127.0.0.1/hook", "https://[::1]/hook", "https://localhost/hook", "https://2130706433/hook", "https://0x7f.1/hook" })
        {
            var problem = await ApiAssert.Problem(await tpl.PatchJson($"/v1/connections/{id}/settings", new { webhookUrl = url }), HttpStatusCode.BadRequest, "validation_failed");
            Assert.True(problem.GetProperty("errors").TryGetProperty("webhookUrl", out _));
        }
    }

    [Fact]
    public async Task The_audit_trail_records_every_action_with_its_actor_and_settings_before_and_after()
    {
        var (tpl, shop, id) = await ConnectedAsync();
        await ApiAssert.Json(await tpl.PatchJson($"/v1/connections/{id}/settings", new { orderFeeBilledTo = "merchant" }), HttpStatusCode.OK);
        await ApiAssert.Json(await shop.PostAsync($"/v1/connections/{id}/deactivate", null), HttpStatusCode.OK);

        foreach (var client in new[] { tpl, shop })
        {
            var audit = await ApiAssert.Json(await client.GetAsync($"/v1/audit-events?connectionId={id}"), HttpStatusCode.OK);
            var actions = audit.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("action").GetString()).ToList();
            Assert.Equal(["connection.deactivated", "connection.settings_updated", "connection.approved", "connection.invited"], actions);
            var settings = audit.GetProperty("items")[1];
            Assert.Equal("threepl", settings.GetProperty("before").GetProperty("orderFeeBilledTo").GetString());
            Assert.Equal("merchant", settings.GetProperty("after").GetProperty("orderFeeBilledTo").GetString());
            Assert.StartsWith("key_", settings.GetProperty("actorKeyId").GetString(), StringComparison.Ordinal);
        }

        var keys = await ApiAssert.Json(await tpl.GetAsync("/v1/audit-events"), HttpStatusCode.OK);
        using var owner = tpl;
        await ApiAssert.Json(await owner.PostAsJsonAsync("/v1/api-keys", new { name = "wms", permissions = new[] { "orders:read" } }), HttpStatusCode.Created);
        var after = await ApiAssert.Json(await owner.GetAsync("/v1/audit-events"), HttpStatusCode.OK);
        Assert.Equal("api_key.created", after.GetProperty("items")[0].GetProperty("action").GetString());
        Assert.Equal(keys.GetProperty("items").GetArrayLength() + 1, after.GetProperty("items").GetArrayLength());
    }

    private async Task<(HttpClient ThreePl, HttpClient Merchant, string Id)> ConnectedAsync()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var merchant = await Seed.AccountAsync(_app, "merchant");
        var id = await Connect.ActiveAsync(_app, threePl, merchant);
        return (_app.WithKey(threePl.ApiKey), _app.WithKey(merchant.ApiKey), id);
    }
}
