using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Orders;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Hosting;

/// <summary>
/// The queue-trigger path end to end: a message sent with the app's own queue client (base64, as the Functions
/// host's queue trigger expects) reaches the function decoded, and one that always fails is moved to
/// <c>{queue}-poison</c> after exactly host.json's <c>maxDequeueCount</c> attempts.
/// </summary>
[Collection("azurite")]
public sealed class QueueTriggerTests(AzuriteFixture azurite)
{
    private const int MaxDequeueCount = 5;

    [Fact]
    public async Task A_message_sent_with_the_apps_client_reaches_the_function_decoded()
    {
        var logs = new CapturedLogs();
        using var app = new TestApp(azurite, services: s => s.AddSingleton<ILoggerProvider>(logs));
        _ = app.Server;
        var orderId = "ord_" + new string('q', 20);

        // A routing request for an order intake never wrote, received long ago: routing reads it and drops it.
        await Queue(app, OrderMessages.RoutingQueue).SendMessageAsync($$"""{"orderId":"{{orderId}}","version":1,"receivedAt":"2000-01-01T00:00:00+00:00"}""");

        // Only a decoded body yields the order id; base64 text handed to the handler would fail to parse.
        await Eventually.True(
            () => Task.FromResult(logs.Entries.Any(e => e.Message.Contains($"Order {orderId} was never written by intake", StringComparison.Ordinal))),
            "the routing function to read the order id");
        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Error);
        Assert.Equal(0, await Queue(app, OrderMessages.RoutingQueue + "-poison").ApproximateCountAsync());
    }

    [Fact]
    public async Task A_message_that_always_fails_is_poisoned_after_exactly_max_dequeue_count_attempts()
    {
        var logs = new CapturedLogs();
        using var app = new TestApp(azurite, services: s => s.AddSingleton<ILoggerProvider>(logs));
        _ = app.Server;
        const string body = "not json ✗";

        await Queue(app, OrderMessages.RoutingQueue).SendMessageAsync(body);

        var poison = Queue(app, OrderMessages.RoutingQueue + "-poison");
        var poisoned = await Eventually.Get(
            async () => (await poison.ReceiveMessagesAsync(1)).Value.SingleOrDefault(),
            "the message to reach the poison queue",
            TimeSpan.FromSeconds(60));
        Assert.Equal(body, poisoned.Body.ToString());
        var attempts = logs.Entries
            .Where(e => e.Message.StartsWith("Function RouteOrder failed on attempt", StringComparison.Ordinal))
            .Select(e => e.Message)
            .ToList();
        Assert.Equal(Enumerable.Range(1, MaxDequeueCount).Select(n => $"Function RouteOrder failed on attempt {n} of {MaxDequeueCount}"), attempts);
        Assert.Equal(0, await Queue(app, OrderMessages.RoutingQueue).ApproximateCountAsync());
    }

    private static QueueClient Queue(TestApp app, string baseName) =>
        app.Services.GetRequiredService<QueueServiceClient>().GetQueueClient(app.Services.GetRequiredService<StorageNames>().Queue(baseName));
}
