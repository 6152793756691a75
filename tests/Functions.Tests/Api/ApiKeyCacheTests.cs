using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ThreePL.Functions.ApiKeys;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Api;

/// <summary>
/// Authentication serves keys from a cache bounded to <see cref="ApiKeyCache.MaxLifetime"/>: a key disabled on one
/// instance stops working there at once and on another instance within the bound, never later.
/// </summary>
[Collection("azurite")]
public sealed class ApiKeyCacheTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_key_disabled_on_one_instance_stops_working_on_another_within_the_bound()
    {
        using var first = new TestApp(azurite);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var second = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:Hosting:Listeners"] = "false" },
            services => services.AddSingleton<TimeProvider>(clock), prefix: first.Prefix);
        var merchant = await Seed.AccountAsync(first, "merchant");
        using var owner = first.WithKey(merchant.ApiKey);
        var created = await ApiAssert.Json(await owner.PostAsJsonAsync("/v1/api-keys", new { name = "wms", permissions = new[] { "orders:read" } }), HttpStatusCode.Created);
        var key = created.GetProperty("key").GetString()!;
        using var onFirst = first.WithKey(key);
        using var onSecond = second.WithKey(key);
        await ApiAssert.Json(await onSecond.GetAsync("/v1/account"), HttpStatusCode.OK);

        await ApiAssert.Json(await owner.PatchJson($"/v1/api-keys/{created.GetProperty("id").GetString()}", new { enabled = false }), HttpStatusCode.OK);
        await ApiAssert.Problem(await onFirst.GetAsync("/v1/account"), HttpStatusCode.Unauthorized, "unauthorized");
        // The other instance read the key a moment ago; it may use that reading until the bound.
        clock.Advance(ApiKeyCache.MaxLifetime - TimeSpan.FromMilliseconds(1));
        await ApiAssert.Json(await onSecond.GetAsync("/v1/account"), HttpStatusCode.OK);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        await ApiAssert.Problem(await onSecond.GetAsync("/v1/account"), HttpStatusCode.Unauthorized, "unauthorized");
    }
}
