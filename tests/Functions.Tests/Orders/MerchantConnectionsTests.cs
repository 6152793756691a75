using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Orders;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Orders;

/// <summary>
/// Routing serves a merchant's list of connection ids from a cache bounded like the routing rules, and reads each
/// connection's state fresh: a new connection is seen on another instance within the bound, a changed state at once.
/// </summary>
[Collection("azurite")]
public sealed class MerchantConnectionsTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_new_connection_is_seen_within_the_bound_and_a_state_change_at_once()
    {
        using var first = new TestApp(azurite);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var second = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:Hosting:Listeners"] = "false" },
            services => services.AddSingleton<TimeProvider>(clock), prefix: first.Prefix);
        var merchant = await Seed.AccountAsync(first, "merchant");
        var firstThreePl = await Seed.AccountAsync(first, "threepl");
        var secondThreePl = await Seed.AccountAsync(first, "threepl");
        var original = await Connect.ActiveAsync(first, firstThreePl, merchant);
        var routing = second.Services.GetRequiredService<MerchantConnections>();
        var merchantId = AccountId.Parse(merchant.Id);

        Assert.Equal([original], Ids(await routing.CurrentAsync(merchantId, CancellationToken.None)));

        var added = await Connect.ActiveAsync(first, secondThreePl, merchant);
        Assert.Equal([original], Ids(await routing.CurrentAsync(merchantId, CancellationToken.None)));
        clock.Advance(RoutingStore.MaxRulesLifetime);
        Assert.Equal(new[] { original, added }.Order(), Ids(await routing.CurrentAsync(merchantId, CancellationToken.None)).Order());

        using var threePl = first.WithKey(firstThreePl.ApiKey);
        await ApiAssert.Json(await threePl.PostAsJsonAsync($"/v1/connections/{original}/disconnect", new { }), HttpStatusCode.OK);
        var afterDisconnect = await routing.CurrentAsync(merchantId, CancellationToken.None);
        Assert.Equal(ConnectionStatus.Disconnected, afterDisconnect.Single(c => c.Connection.Id.Value == original).Connection.Status);
        // A terminal connection can never receive orders again: it is no longer read at all.
        Assert.Equal([added], Ids(await routing.CurrentAsync(merchantId, CancellationToken.None)));
    }

    private static string[] Ids(IEnumerable<Functions.Connections.StoredConnection> connections) =>
        connections.Select(c => c.Connection.Id.Value).ToArray();
}
