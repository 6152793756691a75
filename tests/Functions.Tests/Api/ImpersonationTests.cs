using System.Net;
using System.Net.Http.Json;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Api;

[Collection("azurite")]
public sealed class ImpersonationTests(AzuriteFixture azurite) : IDisposable
{
    private readonly TestApp _app = new(azurite, new Dictionary<string, string?> { ["ThreePL:ImpersonationTtl"] = "00:00:03" });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task A_3pl_acts_inside_the_brand_within_limits_and_every_request_is_audited_on_behalf_of_the_brand()
    {
        var (threePl, brand, id) = await ConnectedAsync();
        var token = await StartAsync(threePl, id);
        using var impersonating = _app.WithKey(token);

        var account = await ApiAssert.Json(await impersonating.GetAsync("/v1/account"), HttpStatusCode.OK);
        Assert.Equal(brand.Id, account.GetProperty("id").GetString());
        var connections = await ApiAssert.Json(await impersonating.GetAsync("/v1/connections"), HttpStatusCode.OK);
        Assert.Equal(id, connections.GetProperty("items").EnumerateArray().Single().GetProperty("id").GetString());

        await ApiAssert.Problem(await impersonating.GetAsync("/v1/api-keys"), HttpStatusCode.Forbidden, "missing_permission");
        await ApiAssert.Problem(await impersonating.PostAsJsonAsync("/v1/api-keys", new { name = "x", permissions = new[] { "*" } }), HttpStatusCode.Forbidden, "missing_permission");
        await ApiAssert.Problem(await impersonating.PostAsync($"/v1/connections/{id}/impersonation", null), HttpStatusCode.Forbidden, "impersonation_not_allowed");
        await ApiAssert.Problem(await impersonating.PatchJson($"/v1/connections/{id}/settings", new { manageOrders = false }), HttpStatusCode.Forbidden, "settings_managed_by_threepl");

        using var tpl = _app.WithKey(threePl.ApiKey);
        var audit = await ApiAssert.Json(await tpl.GetAsync($"/v1/audit-events?connectionId={id}&limit=50"), HttpStatusCode.OK);
        var requests = audit.GetProperty("items").EnumerateArray().Where(e => e.GetProperty("action").GetString() == "impersonation.request").ToList();
        Assert.Equal(6, requests.Count);
        Assert.All(requests, r =>
        {
            Assert.Equal(threePl.Id, r.GetProperty("onBehalfOfAccountId").GetString());
            Assert.Equal(brand.Id, r.GetProperty("actorAccountId").GetString());
            Assert.Equal($"impersonation.request by 3PL {threePl.Id} on behalf of brand {brand.Id}", r.GetProperty("summary").GetString());
        });
        Assert.Contains(requests, r => r.GetProperty("after").GetProperty("path").GetString() == "/v1/api-keys" && r.GetProperty("after").GetProperty("status").GetInt32() == 403);
        Assert.Contains(audit.GetProperty("items").EnumerateArray(), e => e.GetProperty("action").GetString() == "impersonation.started");
    }

    [Fact]
    public async Task Deactivation_revokes_the_token_at_once_and_an_inactive_connection_gives_none()
    {
        var (threePl, brand, id) = await ConnectedAsync();
        var token = await StartAsync(threePl, id);
        using var impersonating = _app.WithKey(token);
        await ApiAssert.Json(await impersonating.GetAsync("/v1/account"), HttpStatusCode.OK);

        using var shop = _app.WithKey(brand.ApiKey);
        await ApiAssert.Json(await shop.PostAsync($"/v1/connections/{id}/deactivate", null), HttpStatusCode.OK);
        await ApiAssert.Problem(await impersonating.GetAsync("/v1/account"), HttpStatusCode.Unauthorized, "unauthorized");

        using var tpl = _app.WithKey(threePl.ApiKey);
        await ApiAssert.Problem(await tpl.PostAsync($"/v1/connections/{id}/impersonation", null), HttpStatusCode.Conflict, "connection_not_active");
        await ApiAssert.Json(await tpl.PostAsync($"/v1/connections/{id}/disconnect", null), HttpStatusCode.OK);
        await ApiAssert.Problem(await impersonating.GetAsync("/v1/account"), HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task The_token_expires()
    {
        var (threePl, _, id) = await ConnectedAsync();
        var token = await StartAsync(threePl, id);
        using var impersonating = _app.WithKey(token);
        await ApiAssert.Json(await impersonating.GetAsync("/v1/account"), HttpStatusCode.OK);
        await Eventually.True(async () => (await impersonating.GetAsync("/v1/account")).StatusCode == HttpStatusCode.Unauthorized, "the token to expire", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Only_the_connections_3pl_may_log_in_to_the_brand_and_forged_tokens_fail()
    {
        var (threePl, brand, id) = await ConnectedAsync();
        var stranger = await Seed.AccountAsync(_app, "threepl");
        using var shop = _app.WithKey(brand.ApiKey);
        await ApiAssert.Problem(await shop.PostAsync($"/v1/connections/{id}/impersonation", null), HttpStatusCode.Forbidden, "threepl_only");
        using var other = _app.WithKey(stranger.ApiKey);
        await ApiAssert.Problem(await other.PostAsync($"/v1/connections/{id}/impersonation", null), HttpStatusCode.NotFound, "not_found");

        var token = await StartAsync(threePl, id);
        var forged = token[..^4] + (token[^4..] == "AAAA" ? "BBBB" : "AAAA");
        using var client = _app.WithKey(forged);
        await ApiAssert.Problem(await client.GetAsync("/v1/account"), HttpStatusCode.Unauthorized, "unauthorized");
    }

    private async Task<(SeededAccount ThreePl, SeededAccount Brand, string Id)> ConnectedAsync()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var brand = await Seed.AccountAsync(_app, "merchant");
        return (threePl, brand, await Connect.ActiveAsync(_app, threePl, brand));
    }

    private async Task<string> StartAsync(SeededAccount threePl, string id)
    {
        using var tpl = _app.WithKey(threePl.ApiKey);
        var created = await ApiAssert.Json(await tpl.PostAsync($"/v1/connections/{id}/impersonation", null), HttpStatusCode.Created);
        Assert.StartsWith("tpi_", created.GetProperty("token").GetString(), StringComparison.Ordinal);
        return created.GetProperty("token").GetString()!;
    }
}
