using System.Net;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using ThreePL.Domain.Common;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;
using ThreePL.Functions.Orders;
using ThreePL.Functions.Tests.Infrastructure;
using static ThreePL.Functions.Tests.Orders.OrderTestKit;

namespace ThreePL.Functions.Tests.Orders;

/// <summary>
/// Intake's routing request carries the order, so routing decides without reading it back; its commit must still fail
/// whenever the stored order is not the one carried at version 1 (ReceivedOrder): a concurrent intake with the same
/// external id that won with other content, a merchant change before routing, an order not written yet.
/// </summary>
[Collection("azurite")]
public sealed class RoutingCarriedOrderTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Intake_request_carries_the_order_and_routing_delegates_it_consuming_the_marker()
    {
        await using var setup = await SetUpAsync(azurite);
        var order = await SubmitAsync(setup.Shop, "carried-1", sku: "SKU-9");
        var message = await setup.TakeRoutingMessageAsync();
        Assert.NotNull(message.Body.Order);
        Assert.Equal("SKU-9", Assert.Single(message.Body.Order!.Lines).Sku);
        Assert.NotNull(await setup.Orders.Table.FindAsync(OrderStore.PartitionOf(OrderId.Parse(order.GetProperty("id").GetString()!)), message.Body.Order.Marker));

        await setup.Routing.HandleAsync(message.Delivery, default);

        var routed = await ApiAssert.Json(await setup.Shop.GetAsync($"/v1/orders/{order.GetProperty("id").GetString()}"), HttpStatusCode.OK);
        Assert.Equal("awaiting_shipment", routed.GetProperty("status").GetString());
        Assert.Equal(2, routed.GetProperty("version").GetInt64());
        Assert.Equal("SKU-9", routed.GetProperty("lines")[0].GetProperty("sku").GetString());
        Assert.Null(await setup.Orders.Table.FindAsync(OrderStore.PartitionOf(OrderId.Parse(order.GetProperty("id").GetString()!)), message.Body.Order.Marker));
    }

    [Fact]
    public async Task A_carried_order_that_lost_intake_to_another_content_never_overwrites_the_stored_one()
    {
        await using var setup = await SetUpAsync(azurite);
        var order = await SubmitAsync(setup.Shop, "carried-2", sku: "SKU-REAL");
        var id = OrderId.Parse(order.GetProperty("id").GetString()!);
        var real = await setup.TakeRoutingMessageAsync();
        // What a concurrent retry with the same external id and other lines sends before its insert loses.
        var loser = real.Body with
        {
            Order = real.Body.Order! with { Marker = OrderStore.ReceivedMarker(id, "rte_lost"), Lines = [new OrderLine("SKU-OTHER", 5, null)] },
        };

        await setup.Routing.HandleAsync(RoutingDelivery(loser), default);

        var routed = await ApiAssert.Json(await setup.Shop.GetAsync($"/v1/orders/{id}"), HttpStatusCode.OK);
        Assert.Equal("awaiting_shipment", routed.GetProperty("status").GetString());
        var line = Assert.Single(routed.GetProperty("lines").EnumerateArray());
        Assert.Equal("SKU-REAL", line.GetProperty("sku").GetString());
        Assert.Equal(2, line.GetProperty("quantity").GetInt32());
    }

    [Fact]
    public async Task A_carried_order_the_merchant_changed_before_routing_is_not_delegated()
    {
        await using var setup = await SetUpAsync(azurite);
        var order = await SubmitAsync(setup.Shop, "carried-3");
        var id = order.GetProperty("id").GetString()!;
        var message = await setup.TakeRoutingMessageAsync();
        await ApiAssert.Json(await setup.Shop.PostAsync($"/v1/orders/{id}/cancel", null), HttpStatusCode.OK);

        await setup.Routing.HandleAsync(message.Delivery, default);

        var after = await ApiAssert.Json(await setup.Shop.GetAsync($"/v1/orders/{id}"), HttpStatusCode.OK);
        Assert.Equal("cancelled", after.GetProperty("status").GetString());
        Assert.Equal(2, after.GetProperty("version").GetInt64());
        Assert.Equal(JsonValueKind.Null, after.GetProperty("connectionId").ValueKind);
    }

    [Fact]
    public async Task A_carried_order_not_written_yet_is_looked_at_again_later_and_nothing_is_written()
    {
        await using var setup = await SetUpAsync(azurite);
        var id = OrderStore.IdFor(AccountId.Parse(setup.MerchantId), "carried-4");
        var received = new OrderReceived(id, 1, OrderStatus.Open, null, DateTimeOffset.UtcNow, AccountId.Parse(setup.MerchantId), "carried-4");
        var (order, _) = Order.Create(id, AccountId.Parse(setup.MerchantId), Draft("carried-4", [new OrderLine("SKU-1", 1, null)]), received.OccurredAt);
        var message = JsonSerializer.Deserialize<RouteOrderMessage>(OrderMessages.RoutingRequest(new StoredOrder(order, null, [], default), received).Message.Body, EventEnvelope.Json)!;
        Assert.NotNull(message.Order);
        var before = await setup.RoutingQueue.ApproximateCountAsync();

        await setup.Routing.HandleAsync(RoutingDelivery(message), default);

        Assert.Equal(before + 1, await setup.RoutingQueue.ApproximateCountAsync());
        Assert.Null(await setup.Orders.GetAsync(id));
        Assert.Equal(HttpStatusCode.NotFound, (await setup.Shop.GetAsync($"/v1/orders/{id}")).StatusCode);
    }

    [Fact]
    public void A_large_order_goes_without_its_order_and_routing_reads_it()
    {
        var merchant = AccountId.Parse("acc_" + new string('a', Identifier.RandomLength));
        var id = OrderStore.IdFor(merchant, "large-1");
        var now = DateTimeOffset.UtcNow;
        var lines = Enumerable.Range(0, OrderDraft.MaxLines)
            .Select(i => new OrderLine($"SKU-{i:D5}-".PadRight(OrderDraft.SkuMaxLength, 'x'), 1, new string('n', OrderDraft.LineNameMaxLength)))
            .ToList();
        var (order, received) = Order.Create(id, merchant, Draft("large-1", lines), now);

        var message = OrderMessages.RoutingRequest(new StoredOrder(order, null, [], default), received).Message;

        Assert.True(message.Body.Length < OrderMessages.MaxCarriedOrderChars);
        Assert.Null(JsonSerializer.Deserialize<RouteOrderMessage>(message.Body, EventEnvelope.Json)!.Order);
        var small = OrderMessages.RoutingRequest(new StoredOrder(Order.Create(id, merchant, Draft("small-1", [lines[0]]), now).Order, null, [], default), received).Message;
        Assert.NotNull(JsonSerializer.Deserialize<RouteOrderMessage>(small.Body, EventEnvelope.Json)!.Order);
    }

    private static OrderDraft Draft(string externalId, IReadOnlyList<OrderLine> lines) =>
        OrderDraft.Validate(externalId, lines, new Address("Ada", "Main St 1", null, "Berlin", "10115", null, "DE", null, null), null, null).Draft
            ?? throw new InvalidOperationException("The test's draft is invalid.");

    private static async Task<Setup> SetUpAsync(AzuriteFixture azurite)
    {
        var app = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:Hosting:Listeners"] = "false" });
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        await Connect.ActiveAsync(app, threePl, merchant);
        var queue = app.Services.GetRequiredService<QueueServiceClient>().GetQueueClient(app.Services.GetRequiredService<StorageNames>().Queue(OrderMessages.RoutingQueue));
        return new Setup(app, app.WithKey(merchant.ApiKey), merchant.Id, queue,
            ActivatorUtilities.CreateInstance<RouteOrderFunction>(app.Services), app.Services.GetRequiredService<OrderStore>());
    }

    private sealed record Setup(TestApp App, HttpClient Shop, string MerchantId, QueueClient RoutingQueue, RouteOrderFunction Routing, OrderStore Orders) : IAsyncDisposable
    {
        public async Task<(RouteOrderMessage Body, QueueDelivery Delivery)> TakeRoutingMessageAsync()
        {
            var received = Assert.Single((await RoutingQueue.ReceiveMessagesAsync(32)).Value);
            await RoutingQueue.DeleteMessageAsync(received.MessageId, received.PopReceipt);
            var body = JsonSerializer.Deserialize<RouteOrderMessage>(received.MessageText, EventEnvelope.Json)!;
            return (body, new QueueDelivery(received.MessageText, received.MessageId, 1, DateTimeOffset.UtcNow));
        }

        public ValueTask DisposeAsync()
        {
            Shop.Dispose();
            App.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
