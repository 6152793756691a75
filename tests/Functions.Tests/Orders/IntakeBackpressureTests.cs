using System.Net;
using System.Net.Http.Json;
using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Orders;
using ThreePL.Functions.Tests.Infrastructure;
using static ThreePL.Functions.Tests.Orders.OrderTestKit;

namespace ThreePL.Functions.Tests.Orders;

/// <summary>
/// Intake refuses new orders while the routing queue holds more than <c>ThreePL:Orders:MaxBacklog</c> messages,
/// and learns the backlog from at most one count request per instance per check interval.
/// </summary>
[Collection("azurite")]
public sealed class IntakeBackpressureTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_backlog_past_the_limit_refuses_new_orders_with_retry_after_and_a_drained_one_accepts_them()
    {
        using var app = new TestApp(azurite, new Dictionary<string, string?>
        {
            ["ThreePL:Orders:MaxBacklog"] = "5",
            // Every request reads the count here; how often it is really read is the next test's subject.
            ["ThreePL:Orders:BacklogCheckInterval"] = "00:00:00",
            ["ThreePL:Orders:OverloadRetryAfter"] = "00:00:03",
        });
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        await Connect.ActiveAsync(app, threePl, merchant);
        using var shop = app.WithKey(merchant.ApiKey);
        var accepted = (await SubmitAsync(shop, "bp-accepted")).GetProperty("id").GetString()!;
        await WaitForStatusAsync(shop, accepted, "awaiting_shipment");

        // Routing requests that no worker can take yet (invisible for an hour) make the backlog, as a slow
        // router would; the queue's count includes them, as it does in Azure.
        var routing = app.Services.GetRequiredService<QueueServiceClient>().GetQueueClient(app.Services.GetRequiredService<StorageNames>().Queue(OrderMessages.RoutingQueue));
        for (var i = 0; i < 6; i++)
        {
            await routing.SendAfterAsync("{\"orderId\":\"ord_backlog\",\"version\":1}", TimeSpan.FromHours(1));
        }

        using var refused = await shop.PostAsJsonAsync("/v1/orders", Body("bp-new"));
        await ApiAssert.Problem(refused, HttpStatusCode.ServiceUnavailable, "overloaded");
        Assert.Equal(TimeSpan.FromSeconds(3), refused.Headers.RetryAfter?.Delta);
        // An order already accepted is still answered: the client learns it is in, and nothing new is queued.
        var repeated = await ApiAssert.Json(await shop.PostAsJsonAsync("/v1/orders", Body("bp-accepted")), HttpStatusCode.OK);
        Assert.Equal(accepted, repeated.GetProperty("id").GetString());

        // Drained: the refused order is accepted now, and as new (201), so the refusal had stored nothing.
        await routing.ClearMessagesAsync();
        var created = (await SubmitAsync(shop, "bp-new")).GetProperty("id").GetString()!;
        await WaitForStatusAsync(shop, created, "awaiting_shipment");
    }

    [Fact]
    public async Task The_backlog_is_read_once_per_interval_however_many_orders_arrive()
    {
        var counter = new StorageOperationCounter(azurite.QueuePort);
        var names = new StorageNames(TestApp.NewPrefix());
        var queues = StorageClients.Queues(StorageClients.FromConnectionString(azurite.ConnectionString), [new StoragePolicy(counter)]);
        var routing = azurite.Queues.GetQueueClient(names.Queue(OrderMessages.RoutingQueue));
        await routing.CreateAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = new IntakeOptions { MaxBacklog = 2, BacklogCheckInterval = TimeSpan.FromSeconds(1), OverloadRetryAfter = TimeSpan.FromSeconds(4) };
        var backpressure = new IntakeBackpressure(queues, names, options, clock, NullLogger<IntakeBackpressure>.Instance);
        Task<TimeSpan?[]> Burst(int n) => Task.WhenAll(Enumerable.Range(0, n).Select(_ => backpressure.RetryAfterAsync(CancellationToken.None).AsTask()));
        long CountRequests() => counter.Get("queue-other");

        Assert.All(await Burst(200), r => Assert.Null(r));
        Assert.Equal(1, CountRequests());

        for (var i = 0; i < 3; i++)
        {
            await routing.SendMessageAsync("backlog");
        }
        clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.All(await Burst(200), r => Assert.Null(r));
        Assert.Equal(1, CountRequests());

        clock.Advance(TimeSpan.FromMilliseconds(1));
        await Burst(200);
        Assert.Equal(2, CountRequests());
        Assert.Equal(TimeSpan.FromSeconds(4), await backpressure.RetryAfterAsync(CancellationToken.None));
        Assert.Equal(2, CountRequests());

        await routing.ClearMessagesAsync();
        clock.Advance(TimeSpan.FromSeconds(1));
        await Burst(200);
        Assert.Null(await backpressure.RetryAfterAsync(CancellationToken.None));
        Assert.Equal(3, CountRequests());
        await routing.DeleteAsync();
    }
}
