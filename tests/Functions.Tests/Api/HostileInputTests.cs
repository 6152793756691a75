using System.Net;
using System.Net.Http.Json;
using System.Text;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Api;

/// <summary>
/// Malformed, mistyped, oversized and injection-shaped input to every endpoint of accounts and keys: always
/// a 4xx problem with a code, never a 5xx, and nothing changes.
/// </summary>
[Collection("azurite")]
public sealed class HostileInputTests(AzuriteFixture azurite) : IDisposable
{
    private readonly TestApp _app = new(azurite);

    public void Dispose() => _app.Dispose();

    public static TheoryData<string, string, string> MalformedBodies => new()
    {
        { "POST", "/v1/admin/accounts", "{" },
        { "POST", "/v1/admin/accounts", "not json" },
        { "POST", "/v1/admin/accounts", "[1,2,3]" },
        { "POST", "/v1/admin/accounts", "{\"kind\":1,\"name\":\"x\",\"email\":\"a@b.co\"}" },
        { "POST", "/v1/admin/accounts", "{\"kind\":\"merchant\",\"name\":{\"a\":1},\"email\":\"a@b.co\"}" },
        { "POST", "/v1/admin/accounts", "{\"kind\":\"merchant\",\"name\":\"x\u0000y\",\"email\":\"a@b.co\"}" },
        { "POST", "/v1/admin/accounts", "null" },
        { "POST", "/v1/admin/accounts", "{}" },
        { "POST", "/v1/api-keys", "{\"name\":\"x\",\"permissions\":\"*\"}" },
        { "POST", "/v1/api-keys", "{\"name\":\"x\",\"permissions\":[1]}" },
        { "POST", "/v1/api-keys", "{\"name\":\"x\",\"permissions\":[\"orders:read\",\"root\"]}" },
        { "POST", "/v1/api-keys", "{\"name\":\"x\",\"permissions\":[]}" },
        { "POST", "/v1/api-keys", "{\"name\":\"x\",\"permissions\":[null]}" },
        { "POST", "/v1/api-keys", "{\"name\":\"\",\"permissions\":[\"*\"]}" },
        { "POST", "/v1/api-keys", "{\"name\":\"x\",\"permissions\":[\"*\"],\"connectionId\":\"con_' or PartitionKey ne '\"}" },
        { "POST", "/v1/api-keys", "{\"name\":\"x\",\"permissions\":[\"*\"],\"connectionId\":42}" },
        { "PATCH", "/v1/api-keys/key_00000000000000000000", "{\"enabled\":\"yes\"}" },
        { "PATCH", "/v1/api-keys/key_00000000000000000000", "{}" },
        { "PATCH", "/v1/api-keys/key_00000000000000000000", "{\"enabled\":null}" },
        { "PATCH", "/v1/api-keys/key_00000000000000000000", "]" },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task Malformed_bodies_get_a_4xx_problem(string method, string path, string body)
    {
        var merchant = await Seed.AccountAsync(_app);
        using var client = path.StartsWith("/v1/admin", StringComparison.Ordinal) ? _app.Admin() : _app.WithKey(merchant.ApiKey);
        var before = await KeyCount(merchant);

        var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        });

        await AssertClientProblem(response);
        Assert.Equal(before, await KeyCount(merchant));
    }

    public static TheoryData<string> HostileIds => new()
    {
        "'", "\"", "key_' or PartitionKey ne '", "key_00000000000000000000'", "..%2F..%2Faccounts", "%00", "key_%27%20or%201%20eq%201",
        new string('k', 5000), "key_ÄÖÜ000000000000000000", "key_0000000000000000000\u0001",
    };

    [Theory]
    [MemberData(nameof(HostileIds))]
    public async Task Hostile_ids_are_not_found_and_change_nothing(string id)
    {
        var merchant = await Seed.AccountAsync(_app);
        using var client = _app.WithKey(merchant.ApiKey);
        var escaped = Uri.EscapeDataString(id);

        await AssertClientProblem(await client.PatchJson($"/v1/api-keys/{escaped}", new { enabled = false }));
        await AssertClientProblem(await client.DeleteAsync($"/v1/api-keys/{escaped}"));
        await ApiAssert.Json(await client.GetAsync("/v1/account"), HttpStatusCode.OK);
        Assert.Equal(1, await KeyCount(merchant));
    }

    [Theory]
    [InlineData("tpl_' or 1 eq 1")]
    [InlineData("tpl_acc_00000000000000000000.key_00000000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("tpl_acc_' or PartitionKey ne '.key_x.secret")]
    [InlineData("\u0001\u0002")]
    public async Task Forged_keys_are_unauthorized(string token)
    {
        using var client = _app.CreateClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", $"Bearer {token}");
        await ApiAssert.Problem(await client.GetAsync("/v1/account"), HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task A_key_of_one_account_with_another_accounts_id_is_unauthorized()
    {
        var alice = await Seed.AccountAsync(_app);
        var bob = await Seed.AccountAsync(_app);
        var forged = alice.ApiKey.Replace(alice.Id, bob.Id, StringComparison.Ordinal);
        using var client = _app.WithKey(forged);
        await ApiAssert.Problem(await client.GetAsync("/v1/account"), HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task Huge_bodies_are_refused_with_413()
    {
        using var admin = _app.Admin();
        var huge = "{\"kind\":\"merchant\",\"name\":\"" + new string('x', 300_000) + "\",\"email\":\"huge@example.com\"}";
        var response = await admin.PostAsync("/v1/admin/accounts", new StringContent(huge, Encoding.UTF8, "application/json"));
        await ApiAssert.Problem(response, HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        var retry = await admin.PostAsJsonAsync("/v1/admin/accounts", new { kind = "merchant", name = "ok", email = "huge@example.com" });
        await ApiAssert.Json(retry, HttpStatusCode.Created);
    }

    [Fact]
    public async Task Wrong_content_type_is_a_problem()
    {
        using var admin = _app.Admin();
        var response = await admin.PostAsync("/v1/admin/accounts", new StringContent("kind=merchant", Encoding.UTF8, "text/plain"));
        await AssertClientProblem(response);
    }

    [Fact]
    public async Task Unknown_routes_and_methods_get_the_hosts_bare_404_and_bad_queries_are_problems()
    {
        var merchant = await Seed.AccountAsync(_app);
        using var client = _app.WithKey(merchant.ApiKey);
        foreach (var unmatched in new[]
        {
            await client.GetAsync("/v1/nothing-here"),
            await client.PutAsJsonAsync("/v1/account", new { }),
            await client.DeleteAsync("/v1/webhook-deliveries/recover"),
        })
        {
            Assert.Equal(HttpStatusCode.NotFound, unmatched.StatusCode);
            Assert.Empty(await unmatched.Content.ReadAsByteArrayAsync());
        }
        await ApiAssert.Problem(await client.GetAsync("/v1/api-keys?limit=0"), HttpStatusCode.BadRequest, "validation_failed");
        await ApiAssert.Problem(await client.GetAsync("/v1/api-keys?limit=abc"), HttpStatusCode.BadRequest, "bad_request");
    }

    private async Task<int> KeyCount(SeededAccount account)
    {
        using var client = _app.WithKey(account.ApiKey);
        var page = await ApiAssert.Json(await client.GetAsync("/v1/api-keys?limit=200"), HttpStatusCode.OK);
        return page.GetProperty("items").GetArrayLength();
    }

    private static async Task AssertClientProblem(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode is >= 400 and < 500, $"Expected a 4xx, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"code\"", body, StringComparison.Ordinal);
    }
}
