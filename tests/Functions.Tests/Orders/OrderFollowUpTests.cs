using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Azure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;
using ThreePL.Functions.Orders;
using ThreePL.Functions.Tests.Infrastructure;
using static ThreePL.Functions.Tests.Orders.OrderTestKit;

namespace ThreePL.Functions.Tests.Orders;

/// <summary>
/// An order command's follow-up message (<see cref="FinishOrderCommandFunction"/>) in each state a crash can leave it
/// in: released with its messages, released without them, never released after a commit, never released because the
/// commit never happened (or is still under way), and left behind by a command that lost its race. The commits are
/// made here as a command makes them, so each state is exact; the consumer is called as the queue function would.
/// </summary>
[Collection("azurite")]
public sealed class OrderFollowUpTests(AzuriteFixture azurite)
{
    private readonly RecordingPublisher _published = new();

    [Fact]
    public async Task An_http_command_publishes_its_event_once_through_its_released_follow_up()
    {
        using var app = new TestApp(azurite, services: s => s.AddSingleton<IEventPublisher>(_published));
        var (order, _, tpl) = await RoutedOrderAsync(app, "released");

        await ApiAssert.Json(await tpl.PostAsync($"/v1/orders/{order}/accept", null), HttpStatusCode.OK);

        await Eventually.True(() => Task.FromResult(_published.Of(order, "order.accepted").Count == 1), "order.accepted to be published");
        Assert.False(Assert.Single(_published.Of(order, "order.accepted")).Redelivered);
        Assert.Equal(3, Assert.Single(_published.Of(order, "order.accepted")).Envelope.Data.GetProperty("version").GetInt64());
    }

    [Fact]
    public async Task A_command_finished_in_its_own_process_deletes_its_follow_up_without_releasing_it()
    {
        var counter = new StorageOperationCounter(azurite.QueuePort);
        // A delay long enough that even a loaded machine's commit leaves the finisher two thirds of it.
        using var app = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:Outbox:SafetyNetDelay"] = "00:00:30" },
            s => s.AddSingleton<IEventPublisher>(_published).AddSingleton(new StoragePolicy(counter)));
        var (order, _, tpl) = await RoutedOrderAsync(app, "in-process");
        counter.Reset();

        await ApiAssert.Json(await tpl.PostAsync($"/v1/orders/{order}/accept", null), HttpStatusCode.OK);

        await Eventually.True(async () => await FollowUpsQueuedAsync(app) == 0 && _published.Of(order, "order.accepted").Count == 1, "the follow-up to be deleted after its event was published");
        Assert.False(Assert.Single(_published.Of(order, "order.accepted")).Redelivered);
        Assert.Equal(1, counter.Get("queue-send"));
        Assert.Equal(1, counter.Get("queue-delete"));
        Assert.Equal(0, counter.Get("queue-update"));
    }

    [Fact]
    public async Task Without_in_process_finishers_the_follow_up_is_released_to_its_queue_function()
    {
        var counter = new StorageOperationCounter(azurite.QueuePort);
        using var app = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:Orders:InProcessFinishers"] = "0" },
            s => s.AddSingleton<IEventPublisher>(_published).AddSingleton(new StoragePolicy(counter)));
        var (order, _, tpl) = await RoutedOrderAsync(app, "released-to-queue");
        counter.Reset();

        await ApiAssert.Json(await tpl.PostAsync($"/v1/orders/{order}/accept", null), HttpStatusCode.OK);

        await Eventually.True(async () => await FollowUpsQueuedAsync(app) == 0 && _published.Of(order, "order.accepted").Count == 1, "the released follow-up to be finished by its queue function");
        Assert.True(counter.Get("queue-update") >= 1);
    }

    [Fact]
    public async Task Work_that_fails_in_process_is_released_to_the_queue_function_which_publishes_it()
    {
        var failures = 0;
        _published.Before = e => e.Type == "order.accepted" && Interlocked.Increment(ref failures) == 1
            ? throw new InvalidOperationException("The first publication fails.")
            : Task.CompletedTask;
        var counter = new StorageOperationCounter(azurite.QueuePort);
        using var app = new TestApp(azurite, services: s => s.AddSingleton<IEventPublisher>(_published).AddSingleton(new StoragePolicy(counter)));
        var (order, _, tpl) = await RoutedOrderAsync(app, "fails-in-process");
        counter.Reset();

        await ApiAssert.Json(await tpl.PostAsync($"/v1/orders/{order}/accept", null), HttpStatusCode.OK);

        await Eventually.True(async () => await FollowUpsQueuedAsync(app) == 0 && _published.Of(order, "order.accepted").Count == 1, "the queue function to publish what failed in process");
        Assert.Equal(2, failures);
        Assert.True(counter.Get("queue-update") >= 1);
    }

    [Fact]
    public async Task Work_that_outlasts_the_safety_net_delay_keeps_its_follow_up_hidden_and_runs_once()
    {
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = 0;
        _published.Before = async e =>
        {
            if (e.Type == "order.accepted")
            {
                Interlocked.Increment(ref started);
                await hold.Task;
            }
        };
        var counter = new StorageOperationCounter(azurite.QueuePort);
        using var app = new TestApp(azurite, services: s => s.AddSingleton<IEventPublisher>(_published).AddSingleton(new StoragePolicy(counter)));
        var (order, _, tpl) = await RoutedOrderAsync(app, "slow-in-process");
        counter.Reset();

        await ApiAssert.Json(await tpl.PostAsync($"/v1/orders/{order}/accept", null), HttpStatusCode.OK);

        // Hidden again every half delay (1 s here): after the third, the message has outlived its first 2 s of
        // invisibility by a second, and no queue function has started the same work.
        await Eventually.True(() => Task.FromResult(counter.Get("queue-update") >= 3), "the follow-up to be hidden again three times");
        Assert.Equal(1, started);
        hold.SetResult();
        await Eventually.True(async () => await FollowUpsQueuedAsync(app) == 0 && _published.Of(order, "order.accepted").Count == 1, "the follow-up to be deleted once its work is done");
        Assert.Equal(1, started);
        Assert.False(Assert.Single(_published.Of(order, "order.accepted")).Redelivered);
    }

    [Fact]
    public async Task A_committed_change_whose_follow_up_was_never_released_is_published_as_redelivered_and_listed()
    {
        using var app = new TestApp(azurite, services: s => s.AddSingleton<IEventPublisher>(_published));
        var (order, shop, _) = await RoutedOrderAsync(app, "unreleased");
        var (read, _) = await CommitAsync(app, order, o => o.Accept(DateTimeOffset.UtcNow), "follow-up-1");

        await FinishAsync(app, new OrderFollowUpMessage(order, 3, read.ToString()), "follow-up-1");

        Assert.True(Assert.Single(_published.Of(order, "order.accepted")).Redelivered);
        var listed = await ApiAssert.Json(await shop.GetAsync("/v1/orders?limit=10"), HttpStatusCode.OK);
        Assert.Equal(3, Assert.Single(listed.GetProperty("items").EnumerateArray()).GetProperty("version").GetInt64());
    }

    [Fact]
    public async Task A_released_follow_up_without_its_messages_reads_them_from_the_history_row()
    {
        using var app = new TestApp(azurite, services: s => s.AddSingleton<IEventPublisher>(_published));
        var (order, _, _) = await RoutedOrderAsync(app, "too-large");
        var (read, _) = await CommitAsync(app, order, o => o.Accept(DateTimeOffset.UtcNow), "follow-up-2");

        await FinishAsync(app, new OrderFollowUpMessage(order, 3, read.ToString(), Committed: true, ListsSynced: true), "follow-up-2");

        Assert.False(Assert.Single(_published.Of(order, "order.accepted")).Redelivered);
    }

    [Fact]
    public async Task A_follow_up_whose_command_never_committed_publishes_nothing_and_fences_a_late_commit()
    {
        using var app = new TestApp(azurite, services: s => s.AddSingleton<IEventPublisher>(_published));
        var (order, _, _) = await RoutedOrderAsync(app, "never");
        var store = app.Services.GetRequiredService<OrderStore>();
        var read = (await store.GetAsync(Domain.Common.OrderId.Parse(order)))!;

        await FinishAsync(app, new OrderFollowUpMessage(order, 3, read.ETag.ToString()), "follow-up-3");

        Assert.Empty(_published.Of(order, "order.accepted"));
        // The command, had it been still under way, now loses its commit and retries with a follow-up of its own.
        var events = read.Order.Accept(DateTimeOffset.UtcNow).Events;
        var late = await Assert.ThrowsAsync<Azure.Data.Tables.TableTransactionFailedException>(() => store.CommitAsync(read, events, [], CancellationToken.None, "follow-up-3"));
        Assert.Equal(412, late.Status);
        Assert.Equal(2, (await store.GetAsync(read.Order.Id))!.Order.Version);
    }

    [Fact]
    public async Task A_follow_up_left_by_a_command_that_lost_its_race_publishes_nothing()
    {
        using var app = new TestApp(azurite, services: s => s.AddSingleton<IEventPublisher>(_published));
        var (order, _, _) = await RoutedOrderAsync(app, "lost");
        var (read, _) = await CommitAsync(app, order, o => o.Accept(DateTimeOffset.UtcNow), "winner");

        await FinishAsync(app, new OrderFollowUpMessage(order, 3, read.ToString()), "loser");

        Assert.Empty(_published.Of(order, "order.accepted"));
    }

    [Fact]
    public async Task A_released_follow_up_that_comes_back_publishes_again_as_redelivered()
    {
        using var app = new TestApp(azurite, services: s => s.AddSingleton<IEventPublisher>(_published));
        var (order, _, _) = await RoutedOrderAsync(app, "again");
        var (read, messages) = await CommitAsync(app, order, o => o.Accept(DateTimeOffset.UtcNow), "follow-up-4");
        var released = new OrderFollowUpMessage(order, 3, read.ToString(), Committed: true, ListsSynced: true, Messages: messages);

        await FinishAsync(app, released, "follow-up-4");
        await FinishAsync(app, released, "follow-up-4", dequeueCount: 2);

        var published = _published.Of(order, "order.accepted");
        Assert.Equal([false, true], published.Select(p => p.Redelivered));
        Assert.Single(published.Select(p => p.Envelope.Id).Distinct());
    }

    [Fact]
    public async Task A_release_carries_the_messages_only_while_they_fit_in_a_queue_message()
    {
        // A queue of its own that no app reads, so each released message can be looked at.
        var names = new StorageNames(TestApp.NewPrefix());
        var queue = azurite.Queues.GetQueueClient(names.Queue(OrderFollowUpMessage.Queue));
        await queue.CreateIfNotExistsAsync();
        var followUps = new OrderFollowUps(azurite.Queues, names, new OutboxOptions(), TimeProvider.System, NullLogger<OrderFollowUps>.Instance);
        var small = new OutboxMessage("evt_small", EventEnvelope.Queue, new string('a', 1_000));
        // Quotes are escaped on the way into the message (\u0022): 20 000 of them take 120 000 bytes there.
        var large = new OutboxMessage("evt_large", EventEnvelope.Queue, new string('"', 20_000));

        foreach (var carried in new[] { small, large })
        {
            var pending = await followUps.SendAsync(Domain.Common.OrderId.New(), 3, new ETag("W/\"read\""), CancellationToken.None);
            await followUps.ReleaseAsync(pending, [carried], listsSynced: true, CancellationToken.None);
        }

        var released = (await queue.ReceiveMessagesAsync(2)).Value
            .Select(m => JsonSerializer.Deserialize<OrderFollowUpMessage>(m.Body.ToString(), EventEnvelope.Json)!).ToList();
        Assert.Equal(2, released.Count);
        Assert.All(released, m => Assert.True(m.Committed && m.ListsSynced && m.Version == 3 && m.ReadETag == "W/\"read\""));
        Assert.Single(released, m => m.Messages is [{ Id: "evt_small" }]);
        Assert.Single(released, m => m.Messages is null);
    }

    private static async Task<(string Order, HttpClient Shop, HttpClient Tpl)> RoutedOrderAsync(TestApp app, string externalId)
    {
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        await Connect.ActiveAsync(app, threePl, merchant);
        var shop = app.WithKey(merchant.ApiKey);
        var tpl = app.WithKey(threePl.ApiKey);
        var order = (await SubmitAsync(shop, externalId)).GetProperty("id").GetString()!;
        await WaitForStatusAsync(tpl, order, "awaiting_shipment");
        return (order, shop, tpl);
    }

    /// <summary>Commits a change as an order command does, naming <paramref name="followUpId"/>; returns the ETag it read and its messages.</summary>
    private static async Task<(ETag Read, IReadOnlyList<OutboxMessage> Messages)> CommitAsync(TestApp app, string order, Func<Order, Domain.Common.Outcome<OrderEvent>> change, string followUpId)
    {
        var store = app.Services.GetRequiredService<OrderStore>();
        var read = (await store.GetAsync(Domain.Common.OrderId.Parse(order)))!;
        var events = change(read.Order).Events;
        var messages = OrderMessages.For(read, events, _ => read.ThreePlAccountId?.Value, TimeSpan.FromDays(7));
        await store.CommitAsync(read, events, messages, CancellationToken.None, followUpId);
        return (read.ETag, messages);
    }

    private static Task FinishAsync(TestApp app, OrderFollowUpMessage message, string messageId, long dequeueCount = 1) =>
        ActivatorUtilities.CreateInstance<FinishOrderCommandFunction>(app.Services).HandleAsync(
            new QueueDelivery(JsonSerializer.Serialize(message, EventEnvelope.Json), messageId, dequeueCount, DateTimeOffset.UtcNow), CancellationToken.None);

    private async Task<int> FollowUpsQueuedAsync(TestApp app) =>
        (await azurite.Queues.GetQueueClient(new StorageNames(app.Prefix).Queue(OrderFollowUpMessage.Queue)).GetPropertiesAsync()).Value.ApproximateMessagesCount;

    private sealed class RecordingPublisher : IEventPublisher
    {
        private readonly ConcurrentQueue<(EventEnvelope Envelope, bool Redelivered)> _published = new();

        /// <summary>Runs before an event is recorded as published; a throw fails the publication.</summary>
        public Func<EventEnvelope, Task> Before { get; set; } = _ => Task.CompletedTask;

        public async Task PublishAsync(EventEnvelope envelope, bool redelivered, CancellationToken cancellationToken)
        {
            await Before(envelope);
            _published.Enqueue((envelope, redelivered));
        }

        public List<(EventEnvelope Envelope, bool Redelivered)> Of(string orderId, string type) =>
            _published.Where(p => p.Envelope.OrderId == orderId && p.Envelope.Type == type).ToList();
    }
}
