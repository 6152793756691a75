using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ThreePL.Domain.Common;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Tests.Infrastructure;
using ThreePL.Functions.Webhooks;

namespace ThreePL.Functions.Tests.Webhooks;

/// <summary>
/// A webhook target is the connection as this instance read it within the targets' bound, by any read: routing's fresh
/// read of an order's connection serves the fan-out of the order's events without a second read. The row is deleted
/// behind the store's back to show which answers came from storage.
/// </summary>
[Collection("azurite")]
public sealed class RecentConnectionTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_fresh_read_serves_the_webhook_target_until_the_bound_or_a_local_change()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var app = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:Hosting:Listeners"] = "false" },
            services => services.AddSingleton<TimeProvider>(clock));
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var id = ConnectionId.Parse(await Connect.ActiveAsync(app, threePl, merchant));
        var store = app.Services.GetRequiredService<ConnectionStore>();
        var targets = app.Services.GetRequiredService<WebhookTargets>();
        var row = await store.Table.FindAsync(id.Value, ConnectionStore.ConnectionRowKey) ?? throw new InvalidOperationException("No connection row.");

        Assert.NotNull(await store.GetAsync(id));
        await store.Table.DeleteEntityAsync(row.PartitionKey, row.RowKey);

        Assert.Equal(AccountId.Parse(threePl.Id), (await targets.ConnectionAsync(id, CancellationToken.None))!.ThreePlAccountId);
        clock.Advance(ConnectionStore.MaxRecentLifetime - TimeSpan.FromMilliseconds(1));
        Assert.NotNull(await targets.ConnectionAsync(id, CancellationToken.None));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Null(await targets.ConnectionAsync(id, CancellationToken.None));
        Assert.Null(await store.GetAsync(id));

        await store.Table.AddEntityAsync(row);
        Assert.NotNull(await store.GetAsync(id));
        app.Services.GetRequiredService<LocalChanges>().Connection(id);
        await store.Table.DeleteEntityAsync(row.PartitionKey, row.RowKey);
        Assert.Null(await targets.ConnectionAsync(id, CancellationToken.None));
    }
}
