using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using ThreePL.Functions.Orders;
using ThreePL.Functions.Tests.Infrastructure;
using ThreePL.Functions.Tests.Webhooks;

namespace ThreePL.Functions.Tests.Reliability;

/// <summary>
/// The crash suite: the real app as a process, under a steady order load, killed with SIGKILL at random
/// moments and started again on the same storage. Afterwards every accepted order is routed exactly once,
/// its order.created webhook arrived at least once with one stable webhook-id, and no state is half-written.
/// </summary>
[Collection("azurite")]
public sealed class CrashSuiteTests(AzuriteFixture azurite) : IDisposable
{
    private const int Orders = 240;
    private const int Kills = 3;
    private readonly string _workingDirectory = Directory.CreateTempSubdirectory("threepl-crash").FullName;

    public void Dispose() => Directory.Delete(_workingDirectory, recursive: true);

    [Fact]
    public async Task Kill_9_under_load_loses_nothing_and_half_writes_nothing()
    {
        await using var receiver = await TestReceiver.StartAsync();
        var prefix = TestApp.NewPrefix();
        var port = AppProcess.FreePort();
        var settings = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["ThreePL:Storage:Prefix"] = prefix,
            [TestApp.HubNameSetting] = TestApp.HubName(prefix),
            ["ThreePL:AdminKey"] = TestApp.AdminKey,
            ["ThreePL:SigningKey"] = "crash-suite-signing-key-0123456789abcdef",
            ["ThreePL:AllowInsecureWebhooks"] = "true",
            ["ThreePL:Email:PickupDirectory"] = Path.Combine(_workingDirectory, "mail"),
            ["ThreePL:Outbox:SafetyNetDelay"] = "00:00:03",
            ["ThreePL:Webhooks:RetrySchedule"] = string.Join(',', Enumerable.Repeat("00:00:01", 10)),
            ["AzureFunctionsJobHost:extensions:queues:messageLease"] = "00:00:05",
            ["AzureFunctionsJobHost:extensions:queues:visibilityTimeout"] = "00:00:00",
            ["AzureFunctionsJobHost:extensions:queues:maxPollingInterval"] = "00:00:00.200",
        };
        var app = await AppProcess.StartAsync(settings, port, _workingDirectory);
        try
        {
            using var http = ApiContract.Client(app.BaseAddress, TimeSpan.FromSeconds(30));
            var (threePl, merchant, secret) = await ConnectAsync(http, receiver.HookUrl);

            var accepted = new ConcurrentDictionary<string, string>();
            var failedRequests = 0;
            var load = Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
            {
                for (var i = worker; i < Orders; i += 8)
                {
                    accepted[$"crash-{i}"] = await SubmitUntilAcceptedAsync(http, merchant, $"crash-{i}", () => Interlocked.Increment(ref failedRequests));
                }
            })));
            for (var kill = 0; kill < Kills; kill++)
            {
                await Task.Delay(Random.Shared.Next(500, 2500));
                app.Kill();
                app.Dispose();
                app = await AppProcess.StartAsync(settings, port, _workingDirectory);
            }
            await load.WaitAsync(TimeSpan.FromMinutes(5));
            Assert.Equal(Orders, accepted.Count);
            Assert.True(failedRequests > 0, "No request met a dead server: the kills did not happen under load.");

            // Everything accepted gets routed and announced, after the crashes, by the restarted app.
            using var shop = Client(http, merchant);
            await Eventually.True(async () =>
            {
                var routed = await Task.WhenAll(accepted.Values.Select(async id =>
                    (await ApiAssert.Json(await shop.GetAsync($"/v1/orders/{id}"), HttpStatusCode.OK)).GetProperty("status").GetString() == "awaiting_shipment"));
                return routed.All(r => r);
            }, "every accepted order to be routed", TimeSpan.FromMinutes(3));
            await Eventually.True(() => Task.FromResult(accepted.Values.All(id => OrderCreated(receiver, id).Count > 0)),
                "an order.created webhook for every order", TimeSpan.FromMinutes(3));

            foreach (var id in accepted.Values)
            {
                var hooks = OrderCreated(receiver, id);
                Assert.Single(hooks.Select(h => h.Id).Distinct());
                Assert.All(hooks, h => Assert.True(StandardWebhooksVerifier.Verify(secret, h.Id!, h.Timestamp!, h.Body, h.Signature!, DateTimeOffset.UtcNow)));
            }
            Assert.Equal(Orders, await CountMerchantOrdersAsync(shop));
            await AssertNothingHalfWrittenAsync(prefix, accepted.Values, merchant.Id, threePl.Id);
        }
        finally
        {
            app.Dispose();
        }
    }

    private static List<ReceivedWebhook> OrderCreated(TestReceiver receiver, string orderId) =>
        receiver.Hooks.Where(h => h.Body.Contains("\"type\":\"order.created\"", StringComparison.Ordinal) && h.Body.Contains($"\"id\":\"{orderId}\"", StringComparison.Ordinal)).ToList();

    /// <summary>What a careful client does when the server dies mid-request: send the same order again.</summary>
    private static async Task<string> SubmitUntilAcceptedAsync(HttpClient http, SeededAccount merchant, string externalId, Action failed)
    {
        var body = new
        {
            externalId,
            lines = new[] { new { sku = "SKU-1", quantity = 1 } },
            shipTo = new { name = "Ada", line1 = "Main St 1", city = "Berlin", postalCode = "10115", countryCode = "DE" },
        };
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/orders") { Content = JsonContent.Create(body) };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", merchant.ApiKey);
                using var response = await http.SendAsync(request);
                if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
                {
                    return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
                }
                Assert.True((int)response.StatusCode >= 500, $"{externalId}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                failed();
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && attempt < 200)
            {
                failed();
            }
            await Task.Delay(200);
        }
    }

    private static async Task<(SeededAccount ThreePl, SeededAccount Merchant, string Secret)> ConnectAsync(HttpClient http, string hookUrl)
    {
        var threePl = await CreateAccountAsync(http, "threepl");
        var merchant = await CreateAccountAsync(http, "merchant");
        using var tpl = Client(http, threePl);
        using var shop = Client(http, merchant);
        var invited = await ApiAssert.Json(await tpl.PostAsJsonAsync("/v1/connections", new { accountId = merchant.Id }), HttpStatusCode.Created);
        var id = invited.GetProperty("id").GetString()!;
        await ApiAssert.Json(await shop.PostAsJsonAsync($"/v1/connections/{id}/approve", new { confirm = true }), HttpStatusCode.OK);
        var settings = await ApiAssert.Json(await tpl.PatchAsync($"/v1/connections/{id}/settings", JsonContent.Create(new { webhookUrl = hookUrl })), HttpStatusCode.OK);
        return (threePl, merchant, settings.GetProperty("webhookSecret").GetString()!);
    }

    private static async Task<SeededAccount> CreateAccountAsync(HttpClient http, string kind)
    {
        var email = $"{Guid.NewGuid():N}@example.com";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/admin/accounts") { Content = JsonContent.Create(new { kind, name = kind, email }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestApp.AdminKey);
        var json = await ApiAssert.Json(await http.SendAsync(request), HttpStatusCode.Created);
        return new SeededAccount(json.GetProperty("id").GetString()!, kind, email, json.GetProperty("apiKey").GetString()!);
    }

    private static HttpClient Client(HttpClient http, SeededAccount account)
    {
        var client = ApiContract.Client(http.BaseAddress!, TimeSpan.FromSeconds(30));
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", account.ApiKey);
        return client;
    }

    private static async Task<int> CountMerchantOrdersAsync(HttpClient shop)
    {
        var count = 0;
        string? cursor = null;
        do
        {
            var page = await ApiAssert.Json(await shop.GetAsync("/v1/orders?limit=200" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}")), HttpStatusCode.OK);
            count += page.GetProperty("items").GetArrayLength();
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);
        return count;
    }

    /// <summary>Every order row has its two list rows with its current version and status, and no outbox row is left.</summary>
    private async Task AssertNothingHalfWrittenAsync(string prefix, IEnumerable<string> orderIds, string merchantId, string threePlId)
    {
        var table = azurite.Tables.GetTableClient(prefix + "orders");
        await Eventually.True(async () =>
        {
            var leftovers = 0;
            await foreach (var _ in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"RowKey ge {"outbox|"} and RowKey lt {"outbox}"}")))
            {
                leftovers++;
            }
            return leftovers == 0;
        }, "the outbox to drain");
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>())
        {
            rows.Add(row);
        }
        foreach (var id in orderIds)
        {
            var order = rows.Single(r => r.PartitionKey == id && r.RowKey == "order");
            var version = order.GetInt64("Version");
            var merchantRow = rows.Single(r => r.PartitionKey == $"m|{merchantId}" && r.RowKey == id);
            Assert.Equal(version, merchantRow.GetInt64("Version"));
            var threePlRow = rows.Single(r => r.PartitionKey == $"t|{threePlId}" && r.RowKey.EndsWith("|" + id, StringComparison.Ordinal)
                && !r.RowKey.StartsWith(OrderChangeFeed.ListRowsEnd, StringComparison.Ordinal));
            // The reconciliation feed's change row follows the list row, crash or not: one per order, at its version.
            var changeRow = rows.Single(r => r.PartitionKey == $"m|{merchantId}" && r.RowKey.StartsWith(OrderChangeFeed.ChangePrefix, StringComparison.Ordinal) && r.GetString("OrderId") == id);
            Assert.Equal(version, changeRow.GetInt64("Version"));
            Assert.Equal(version, threePlRow.GetInt64("Version"));
            Assert.Equal("awaiting_shipment", threePlRow.GetString("Status"));
            Assert.Equal(version, rows.Count(r => r.PartitionKey == id && r.RowKey.StartsWith("history|", StringComparison.Ordinal)));
        }
    }
}
