using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.DependencyInjection;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;
using ThreePL.Functions.Orders;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Orders;

public static class OrderTestKit
{
    /// <summary>A first delivery of a routing message, as the queue trigger hands it over.</summary>
    public static QueueDelivery RoutingDelivery(RouteOrderMessage message) =>
        new(JsonSerializer.Serialize(message, EventEnvelope.Json), "msg-" + Guid.NewGuid().ToString("N"), 1, DateTimeOffset.UtcNow);

    public static object Body(string externalId, string sku = "SKU-1", string? service = null, string? notes = null) => new
    {
        externalId,
        lines = new[] { new { sku, quantity = 2, name = "Socks" } },
        shipTo = new { name = "Ada", line1 = "Main St 1", city = "Berlin", postalCode = "10115", countryCode = "de" },
        shippingService = service,
        notes,
    };

    public static async Task<JsonElement> SubmitAsync(HttpClient merchant, string externalId, string sku = "SKU-1", string? service = null, string? notes = null) =>
        await ApiAssert.Json(await merchant.PostAsJsonAsync("/v1/orders", Body(externalId, sku, service, notes)), HttpStatusCode.Created);

    /// <summary>Waits until the order, as <paramref name="client"/> sees it, has the status.</summary>
    public static Task<JsonElement> WaitForStatusAsync(HttpClient client, string id, string status, TimeSpan? timeout = null) =>
        Eventually.Get<JsonElement?>(async () =>
        {
            var response = await client.GetAsync($"/v1/orders/{id}");
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return null;
            }
            var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            return json.GetProperty("status").GetString() == status ? json : null;
        }, $"order {id} to be {status}", timeout).ContinueWith(t => t.Result!.Value, TaskScheduler.Default);

    /// <summary>
    /// Waits until every routing request sent so far has been handled: the queue's approximate count includes
    /// messages being processed, so 0 means routed or left open, not "not yet routed".
    /// </summary>
    public static Task WaitForRoutingAsync(TestApp app) =>
        Eventually.True(async () => await app.Services.GetRequiredService<QueueServiceClient>()
            .GetQueueClient(app.Services.GetRequiredService<StorageNames>().Queue("order-routing")).ApproximateCountAsync() == 0, "routing to finish");

    public static async Task<List<string>> ListIdsAsync(HttpClient client, string query = "")
    {
        var ids = new List<string>();
        string? cursor = null;
        do
        {
            var url = "/v1/orders?limit=200" + query + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            var page = await ApiAssert.Json(await client.GetAsync(url), HttpStatusCode.OK);
            ids.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);
        return ids;
    }
}
