using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ThreePL.Domain.Common;
using ThreePL.Functions.Accounts;
using ThreePL.Functions.ApiKeys;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Api;

[Collection("azurite")]
public sealed class ApiKeysApiTests(AzuriteFixture azurite) : IDisposable
{
    private readonly TestApp _app = new(azurite);

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task Created_key_is_shown_once_and_stored_only_as_a_hash()
    {
        var merchant = await Seed.AccountAsync(_app);
        using var client = _app.WithKey(merchant.ApiKey);
        var created = await ApiAssert.Json(await client.PostAsJsonAsync("/v1/api-keys", new { name = "WMS", permissions = new[] { "orders:read" } }), HttpStatusCode.Created);
        var secret = created.GetProperty("key").GetString()!;
        var id = created.GetProperty("id").GetString()!;

        var list = await ApiAssert.Json(await client.GetAsync("/v1/api-keys"), HttpStatusCode.OK);
        var listed = list.GetProperty("items").EnumerateArray().Single(k => k.GetProperty("id").GetString() == id);
        Assert.False(listed.TryGetProperty("key", out _));
        Assert.Equal(new[] { "orders:read" }, listed.GetProperty("permissions").EnumerateArray().Select(p => p.GetString()!).ToArray());
        Assert.DoesNotContain(secret, list.GetRawText(), StringComparison.Ordinal);

        var store = _app.Services.GetRequiredService<AccountStore>();
        var row = await store.Table.FindAsync(merchant.Id, ApiKeyStore.RowKey(ApiKeyId.Parse(id)));
        Assert.NotNull(row);
        var secretPart = secret.Split('.')[2];
        Assert.All(row!.Select(p => p.Value), v => Assert.DoesNotContain(secretPart, v?.ToString() ?? "", StringComparison.Ordinal));
        Assert.Equal(ApiKeySecret.Hash(secretPart), row.GetBinary("SecretHash"));
    }

    [Fact]
    public async Task Permissions_are_enforced()
    {
        var merchant = await Seed.AccountAsync(_app);
        using var owner = _app.WithKey(merchant.ApiKey);
        var readOnly = await ApiAssert.Json(await owner.PostAsJsonAsync("/v1/api-keys", new { name = "read", permissions = new[] { "orders:read" } }), HttpStatusCode.Created);

        using var limited = _app.WithKey(readOnly.GetProperty("key").GetString()!);
        await ApiAssert.Problem(await limited.GetAsync("/v1/api-keys"), HttpStatusCode.Forbidden, "missing_permission");
        await ApiAssert.Problem(await limited.PostAsJsonAsync("/v1/api-keys", new { name = "x", permissions = new[] { "*" } }), HttpStatusCode.Forbidden, "missing_permission");
        await ApiAssert.Json(await limited.GetAsync("/v1/account"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_key_cannot_grant_what_it_does_not_hold()
    {
        var merchant = await Seed.AccountAsync(_app);
        using var owner = _app.WithKey(merchant.ApiKey);
        var manager = await ApiAssert.Json(await owner.PostAsJsonAsync("/v1/api-keys", new { name = "mgr", permissions = new[] { "keys:manage", "orders:read" } }), HttpStatusCode.Created);
        using var client = _app.WithKey(manager.GetProperty("key").GetString()!);

        await ApiAssert.Problem(await client.PostAsJsonAsync("/v1/api-keys", new { name = "x", permissions = new[] { "orders:write" } }), HttpStatusCode.Forbidden, "cannot_grant_permission");
        await ApiAssert.Problem(await client.PostAsJsonAsync("/v1/api-keys", new { name = "x", permissions = new[] { "*" } }), HttpStatusCode.Forbidden, "cannot_grant_permission");
        await ApiAssert.Json(await client.PostAsJsonAsync("/v1/api-keys", new { name = "x", permissions = new[] { "orders:read" } }), HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_key_cannot_enable_disable_or_delete_a_key_holding_more_than_itself()
    {
        var merchant = await Seed.AccountAsync(_app);
        using var owner = _app.WithKey(merchant.ApiKey);
        var ownerKeyId = (await ApiAssert.Json(await owner.GetAsync("/v1/api-keys"), HttpStatusCode.OK)).GetProperty("items").EnumerateArray().Single().GetProperty("id").GetString()!;
        var spare = (await ApiAssert.Json(await owner.PostAsJsonAsync("/v1/api-keys", new { name = "spare admin", permissions = new[] { "*" } }), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        await ApiAssert.Json(await owner.PatchJson($"/v1/api-keys/{spare}", new { enabled = false }), HttpStatusCode.OK);
        var writer = (await ApiAssert.Json(await owner.PostAsJsonAsync("/v1/api-keys", new { name = "writer", permissions = new[] { "orders:write" } }), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        var reader = (await ApiAssert.Json(await owner.PostAsJsonAsync("/v1/api-keys", new { name = "reader", permissions = new[] { "orders:read" } }), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        var manager = await ApiAssert.Json(await owner.PostAsJsonAsync("/v1/api-keys", new { name = "mgr", permissions = new[] { "keys:manage", "orders:read" } }), HttpStatusCode.Created);
        using var lesser = _app.WithKey(manager.GetProperty("key").GetString()!);

        await ApiAssert.Problem(await lesser.PatchJson($"/v1/api-keys/{spare}", new { enabled = true }), HttpStatusCode.Forbidden, "key_privilege_exceeded");
        await ApiAssert.Problem(await lesser.PatchJson($"/v1/api-keys/{ownerKeyId}", new { enabled = false }), HttpStatusCode.Forbidden, "key_privilege_exceeded");
        await ApiAssert.Problem(await lesser.DeleteAsync($"/v1/api-keys/{ownerKeyId}"), HttpStatusCode.Forbidden, "key_privilege_exceeded");
        await ApiAssert.Problem(await lesser.DeleteAsync($"/v1/api-keys/{spare}"), HttpStatusCode.Forbidden, "key_privilege_exceeded");
        await ApiAssert.Problem(await lesser.PatchJson($"/v1/api-keys/{writer}", new { enabled = false }), HttpStatusCode.Forbidden, "key_privilege_exceeded");

        // The owner's '*' key still works and is still the only enabled one of its kind; keys within reach are managed as before.
        var keys = (await ApiAssert.Json(await owner.GetAsync("/v1/api-keys"), HttpStatusCode.OK)).GetProperty("items").EnumerateArray().ToList();
        Assert.True(keys.Single(k => k.GetProperty("id").GetString() == ownerKeyId).GetProperty("enabled").GetBoolean());
        Assert.False(keys.Single(k => k.GetProperty("id").GetString() == spare).GetProperty("enabled").GetBoolean());
        await ApiAssert.Json(await lesser.PatchJson($"/v1/api-keys/{reader}", new { enabled = false }), HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.NoContent, (await lesser.DeleteAsync($"/v1/api-keys/{reader}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"/v1/api-keys/{spare}")).StatusCode);
    }

    [Fact]
    public async Task Disabled_key_is_refused_until_enabled_and_deleted_key_for_good()
    {
        var merchant = await Seed.AccountAsync(_app);
        using var owner = _app.WithKey(merchant.ApiKey);
        var created = await ApiAssert.Json(await owner.PostAsJsonAsync("/v1/api-keys", new { name = "temp", permissions = new[] { "orders:read" } }), HttpStatusCode.Created);
        var id = created.GetProperty("id").GetString()!;
        using var temp = _app.WithKey(created.GetProperty("key").GetString()!);
        await ApiAssert.Json(await temp.GetAsync("/v1/account"), HttpStatusCode.OK);

        var disabled = await ApiAssert.Json(await owner.PatchJson($"/v1/api-keys/{id}", new { enabled = false }), HttpStatusCode.OK);
        Assert.False(disabled.GetProperty("enabled").GetBoolean());
        await ApiAssert.Problem(await temp.GetAsync("/v1/account"), HttpStatusCode.Unauthorized, "unauthorized");

        await ApiAssert.Json(await owner.PatchJson($"/v1/api-keys/{id}", new { enabled = true }), HttpStatusCode.OK);
        await ApiAssert.Json(await temp.GetAsync("/v1/account"), HttpStatusCode.OK);

        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"/v1/api-keys/{id}")).StatusCode);
        await ApiAssert.Problem(await temp.GetAsync("/v1/account"), HttpStatusCode.Unauthorized, "unauthorized");
        await ApiAssert.Problem(await owner.DeleteAsync($"/v1/api-keys/{id}"), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Last_used_time_is_recorded()
    {
        var merchant = await Seed.AccountAsync(_app);
        using var owner = _app.WithKey(merchant.ApiKey);
        await owner.GetAsync("/v1/account");
        var list = await ApiAssert.Json(await owner.GetAsync("/v1/api-keys"), HttpStatusCode.OK);
        var first = list.GetProperty("items").EnumerateArray().Single();
        Assert.Equal(JsonValueKind.String, first.GetProperty("lastUsedAt").ValueKind);
    }

    [Fact]
    public async Task Keys_of_another_account_are_not_found()
    {
        var alice = await Seed.AccountAsync(_app);
        var bob = await Seed.AccountAsync(_app);
        using var aliceClient = _app.WithKey(alice.ApiKey);
        using var bobClient = _app.WithKey(bob.ApiKey);
        var bobKeys = await ApiAssert.Json(await bobClient.GetAsync("/v1/api-keys"), HttpStatusCode.OK);
        var bobKeyId = bobKeys.GetProperty("items")[0].GetProperty("id").GetString()!;

        await ApiAssert.Problem(await aliceClient.PatchJson($"/v1/api-keys/{bobKeyId}", new { enabled = false }), HttpStatusCode.NotFound, "not_found");
        await ApiAssert.Problem(await aliceClient.DeleteAsync($"/v1/api-keys/{bobKeyId}"), HttpStatusCode.NotFound, "not_found");
        var aliceKeys = await ApiAssert.Json(await aliceClient.GetAsync("/v1/api-keys"), HttpStatusCode.OK);
        Assert.DoesNotContain(bobKeyId, aliceKeys.GetRawText(), StringComparison.Ordinal);
        await ApiAssert.Json(await bobClient.GetAsync("/v1/account"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task Listing_pages_with_an_opaque_cursor()
    {
        var merchant = await Seed.AccountAsync(_app);
        using var owner = _app.WithKey(merchant.ApiKey);
        for (var i = 0; i < 6; i++)
        {
            await ApiAssert.Json(await owner.PostAsJsonAsync("/v1/api-keys", new { name = $"k{i}", permissions = new[] { "orders:read" } }), HttpStatusCode.Created);
        }
        var seen = new HashSet<string>();
        string? cursor = null;
        do
        {
            var url = "/v1/api-keys?limit=3" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
            var page = await ApiAssert.Json(await owner.GetAsync(url), HttpStatusCode.OK);
            foreach (var item in page.GetProperty("items").EnumerateArray())
            {
                Assert.True(seen.Add(item.GetProperty("id").GetString()!));
            }
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);
        Assert.Equal(7, seen.Count);
    }

    [Fact]
    public async Task Scoping_a_key_to_a_connection_of_someone_else_is_refused()
    {
        var merchant = await Seed.AccountAsync(_app);
        using var owner = _app.WithKey(merchant.ApiKey);
        var response = await owner.PostAsJsonAsync("/v1/api-keys", new { name = "scoped", permissions = new[] { "orders:read" }, connectionId = ConnectionId.New().Value });
        var problem = await ApiAssert.Problem(response, HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty("connectionId", out _));
    }

    [Fact]
    public async Task Concurrent_updates_of_one_key_each_decide_on_the_state_the_previous_one_committed()
    {
        var merchant = await Seed.AccountAsync(_app);
        using var owner = _app.WithKey(merchant.ApiKey);
        var id = (await ApiAssert.Json(await owner.PostAsJsonAsync("/v1/api-keys", new { name = "raced", permissions = new[] { "orders:read" } }), HttpStatusCode.Created))
            .GetProperty("id").GetString()!;

        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => owner.PatchJson($"/v1/api-keys/{id}", new { enabled = i % 2 == 1 })));
        foreach (var response in responses.Where(r => r.StatusCode != HttpStatusCode.OK))
        {
            await ApiAssert.Problem(response, HttpStatusCode.Conflict, "concurrent_update");
        }
        var succeeded = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
        Assert.True(succeeded > 0);

        var final = (await ApiAssert.Json(await owner.GetAsync("/v1/api-keys?limit=200"), HttpStatusCode.OK))
            .GetProperty("items").EnumerateArray().Single(k => k.GetProperty("id").GetString() == id).GetProperty("enabled").GetBoolean();
        var audits = (await ApiAssert.Json(await owner.GetAsync("/v1/audit-events?limit=200"), HttpStatusCode.OK)).GetProperty("items").EnumerateArray()
            .Where(e => e.GetProperty("action").GetString() == "api_key.updated" && e.GetProperty("after").GetProperty("id").GetString() == id)
            .Select(e => (Before: e.GetProperty("before").GetProperty("enabled").GetBoolean(), After: e.GetProperty("after").GetProperty("enabled").GetBoolean()))
            .ToList();
        // One audit row per committed update, and they chain: each "before" is what the previous winner committed.
        // Over a chain from enabled to the final state, "before = enabled" outnumbers "after = enabled" by exactly
        // 1 - [final is enabled]; an update that committed over a state it did not read would break the count.
        Assert.Equal(succeeded, audits.Count);
        Assert.Equal(1 - (final ? 1 : 0), audits.Count(a => a.Before) - audits.Count(a => a.After));
    }
}
