using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Tests.Infrastructure;
using ThreePL.Functions.Tests.Webhooks;
using static ThreePL.Functions.Tests.Orders.OrderTestKit;

namespace ThreePL.Functions.Tests.Orders;

/// <summary>
/// The storage client retries a <c>$batch</c> whose answer it did not get; when the first try had committed, the retry
/// fails on its own write (412) and the command seems to have lost a race. It must recognise its own change (an order
/// by its history row, a connection by its outbox row), answer as committed and publish its events.
/// </summary>
[Collection("azurite")]
public sealed class RetriedCommitTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_command_whose_committed_transaction_is_sent_again_answers_as_committed_and_publishes_its_event()
    {
        await using var receiver = await TestReceiver.StartAsync();
        var replay = new ReplayNextBatch();
        using var app = new TestApp(azurite, null, s => s.AddSingleton(new StoragePolicy(replay)));
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var connection = await Connect.ActiveAsync(app, threePl, merchant);
        using var shop = app.WithKey(merchant.ApiKey);
        using var tpl = app.WithKey(threePl.ApiKey);
        await ApiAssert.Json(await tpl.PatchJson($"/v1/connections/{connection}/settings", new { webhookUrl = receiver.HookUrl }), HttpStatusCode.OK);
        var id = (await SubmitAsync(shop, "retried-1")).GetProperty("id").GetString()!;
        await WaitForStatusAsync(tpl, id, "awaiting_shipment");
        await AppIdle.WaitAsync(azurite, app.Prefix);

        replay.Armed = true;
        var accepted = await ApiAssert.Json(await tpl.PostAsync($"/v1/orders/{id}/accept", null), HttpStatusCode.OK);

        Assert.Equal(1, replay.Replayed);
        Assert.Equal("accepted", accepted.GetProperty("fulfillmentRequest").GetProperty("status").GetString());
        await Eventually.True(() => Task.FromResult(receiver.Hooks.Any(h =>
            JsonDocument.Parse(h.Body).RootElement is var body
            && body.GetProperty("type").GetString() == "order.accepted"
            && body.GetProperty("data").GetProperty("id").GetString() == id)), "order.accepted to be delivered");
    }

    [Fact]
    public async Task A_connection_command_whose_committed_transaction_is_sent_again_answers_as_committed_and_publishes_its_event()
    {
        await using var receiver = await TestReceiver.StartAsync();
        var replay = new ReplayNextBatch();
        using var app = new TestApp(azurite, null, s => s.AddSingleton(new StoragePolicy(replay)));
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var connection = await Connect.ActiveAsync(app, threePl, merchant);
        using var tpl = app.WithKey(threePl.ApiKey);
        await ApiAssert.Json(await tpl.PostAsJsonAsync("/v1/webhook-endpoints", new { url = receiver.HookUrl, eventTypes = new[] { "connection.deactivated" } }), HttpStatusCode.Created);
        await AppIdle.WaitAsync(azurite, app.Prefix);

        replay.Armed = true;
        var deactivated = await ApiAssert.Json(await tpl.PostAsync($"/v1/connections/{connection}/deactivate", null), HttpStatusCode.OK);

        Assert.Equal(1, replay.Replayed);
        Assert.Equal("inactive", deactivated.GetProperty("status").GetString());
        await Eventually.True(() => Task.FromResult(receiver.Hooks.Any(h =>
            JsonDocument.Parse(h.Body).RootElement.GetProperty("type").GetString() == "connection.deactivated")), "connection.deactivated to be delivered");
    }
}
