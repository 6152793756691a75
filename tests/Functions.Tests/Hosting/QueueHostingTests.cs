using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ThreePL.Functions.Hosting;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Storage.Queues;
using ThreePL.Functions.Storage.Tables;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Hosting;

[Collection("azurite")]
public sealed class QueueHostingTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_function_that_always_throws_ends_in_poison_after_exactly_maxDequeueCount_attempts()
    {
        var function = new AlwaysFailingFunction();
        using var app = new TestApp(azurite,
            new Dictionary<string, string?> { ["AzureFunctionsJobHost:extensions:queues:maxDequeueCount"] = "3" },
            services => services.AddSingleton<IQueueFunction>(function));
        _ = app.Services;
        var queues = app.Services.GetRequiredService<QueueServiceClient>();
        var names = app.Services.GetRequiredService<StorageNames>();
        var poison = queues.GetQueueClient(StorageNames.Poison(names.Queue(function.QueueName)));

        await queues.GetQueueClient(names.Queue(function.QueueName)).SendMessageAsync("doomed");

        var poisoned = await Eventually.Get(async () =>
        {
            var messages = await poison.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30));
            return messages.Count == 1 ? messages[0] : null;
        }, "the message in the poison queue");
        Assert.Equal("doomed", poisoned.MessageText);
        Assert.Equal(3, function.Attempts["doomed"]);
        Assert.Equal(0, await queues.GetQueueClient(names.Queue(function.QueueName)).GetApproximateMessagesCountAsync());
    }

    [Fact]
    public async Task A_queue_function_gives_the_same_result_standalone_and_under_the_functions_host()
    {
        using var standalone = new TestApp(azurite, services: AddUppercase);
        using var hosted = new TestApp(azurite,
            new Dictionary<string, string?> { [CustomHandler.PortVariable] = "7999" },
            AddUppercase);

        var queues = standalone.Services.GetRequiredService<QueueServiceClient>();
        await queues.GetQueueClient(standalone.Prefix + "uppercase").SendMessageAsync("{\"order\":\"Ünïcode ok\"}");
        var viaListener = await Eventually.Get(() => ResultAsync(standalone, "{\"order\":\"Ünïcode ok\"}"), "the standalone result");

        using var host = hosted.CreateClient();
        var invocation = new
        {
            Data = new { message = "{\"order\":\"Ünïcode ok\"}" },
            Metadata = new { DequeueCount = 1, Id = Guid.NewGuid().ToString(), InsertionTime = DateTimeOffset.UtcNow, PopReceipt = "x", sys = new { MethodName = "Uppercase" } },
        };
        var response = await host.PostAsJsonAsync("/Uppercase", invocation);
        var body = await ApiAssert.Json(response, HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Object, body.GetProperty("Outputs").ValueKind);
        Assert.Equal(JsonValueKind.Array, body.GetProperty("Logs").ValueKind);
        Assert.True(body.TryGetProperty("ReturnValue", out _));
        var viaHost = await ResultAsync(hosted, "{\"order\":\"Ünïcode ok\"}");

        Assert.NotNull(viaHost);
        Assert.Equal(viaListener.GetString("Upper"), viaHost!.GetString("Upper"));
        Assert.Equal("{\"ORDER\":\"ÜNÏCODE OK\"}", viaHost.GetString("Upper"));
    }

    [Fact]
    public async Task Under_the_functions_host_a_failing_function_answers_non_2xx_and_no_listener_runs()
    {
        var function = new AlwaysFailingFunction();
        using var hosted = new TestApp(azurite,
            new Dictionary<string, string?> { [CustomHandler.PortVariable] = "7999" },
            services => services.AddSingleton<IQueueFunction>(function));
        using var host = hosted.CreateClient();

        var response = await host.PostAsJsonAsync("/AlwaysFails", new { Data = new { message = "boom" }, Metadata = new { DequeueCount = 1 } });

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(1, function.Attempts["boom"]);
        Assert.DoesNotContain(hosted.Services.GetServices<IHostedService>(), s => s is QueueListener or TimerScheduler);
        await ApiAssert.Json(await host.GetAsync("/healthz"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task Standalone_mode_does_not_expose_invocation_endpoints()
    {
        using var standalone = new TestApp(azurite, services: AddUppercase);
        using var client = standalone.CreateClient();
        var response = await client.PostAsJsonAsync("/Uppercase", new { Data = new { message = "x" } });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private static void AddUppercase(IServiceCollection services) => services.AddSingleton<IQueueFunction, UppercaseFunction>();

    private static async Task<TableEntity?> ResultAsync(TestApp app, string text)
    {
        var tables = app.Services.GetRequiredService<TableServiceClient>();
        var table = tables.GetTableClient(app.Prefix + UppercaseFunction.Table);
        await table.CreateIfNotExistsAsync();
        return await table.FindAsync("results", text);
    }
}
