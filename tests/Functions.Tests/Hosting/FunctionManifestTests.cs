using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using ThreePL.Functions.Http;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;
using ThreePL.Functions.Tests.Infrastructure;
using ThreePL.Functions.Tests.Orders;
using ThreePL.Functions.Tests.Webhooks;
using ThreePL.LocalHost;

namespace ThreePL.Functions.Tests.Hosting;

/// <summary>
/// Holds the contract, the code and the Functions host's manifest together: the <c>functions.metadata</c> of a real
/// <c>dotnet publish</c> (what Azure loads) against the OpenAPI document and the queues the app sends to.
/// </summary>
[Collection("azurite")]
public sealed partial class FunctionManifestTests(AzuriteFixture azurite) : IClassFixture<FunctionManifestTests.PublishedApp>
{
    /// <summary>
    /// HTTP functions that are not operations of the document: none. The document itself and the reference page are
    /// operations like any other, and there is no catch-all (the Functions host would let it shadow real routes).
    /// </summary>
    private static readonly HashSet<string> UndocumentedHttpFunctions = [];

    [Fact]
    public void The_package_holds_what_the_Functions_host_loads()
    {
        var directory = PublishedApp.Directory;
        foreach (var file in new[] { "functions.metadata", "worker.config.json", "extensions.json", "host.json", "ThreePL.Functions.dll" })
        {
            Assert.True(File.Exists(Path.Combine(directory, file)), $"{file} is missing from the publish output.");
        }
        Assert.True(Directory.Exists(Path.Combine(directory, ".azurefunctions")), ".azurefunctions/ is missing from the publish output.");
    }

    [Fact]
    public void Every_documented_operation_has_exactly_one_http_function_and_every_api_function_is_documented()
    {
        var http = PublishedApp.Functions.Where(f => f.Trigger.Type == "httpTrigger").ToList();
        var byOperation = http
            .SelectMany(f => (f.Trigger.Methods ?? []).Select(m => (Key: Operation(m, "/" + f.Trigger.Route), f.Name)))
            .GroupBy(x => x.Key, x => x.Name)
            .ToDictionary(g => g.Key, g => g.ToList());

        var documented = Documented().ToList();
        Assert.NotEmpty(documented);
        foreach (var operation in documented)
        {
            Assert.True(byOperation.TryGetValue(operation, out var names) && names.Count == 1,
                $"{operation} is documented but has {(names is null ? "no" : names.Count.ToString())} HTTP function(s): {string.Join(", ", names ?? [])}.");
        }
        var undocumented = byOperation.Where(o => !documented.Contains(o.Key) && !o.Value.All(UndocumentedHttpFunctions.Contains)).Select(o => o.Key).ToList();
        Assert.True(undocumented.Count == 0, "HTTP functions missing from the OpenAPI document: " + string.Join(", ", undocumented));
    }

    /// <summary>
    /// The Functions host tries HTTP routes in function-name order (ordinal, ignoring case) and the first route whose
    /// template and method match wins (azure-functions-host FunctionMetadataManager, WebScriptHostHttpRoutesManager;
    /// WebJobsRouteBuilder's RouteCollection): no literal-over-parameter precedence. Every documented operation, with
    /// its parameters filled in, must reach its own function in that order, so no route is shadowed in Azure.
    /// </summary>
    [Fact]
    public void Every_documented_operation_reaches_its_own_function_in_the_Functions_hosts_route_order()
    {
        var http = PublishedApp.Functions.Where(f => f.Trigger.Type == "httpTrigger").ToList();
        var unreached = new List<string>();
        foreach (var operation in Documented())
        {
            var (method, template) = (operation[..operation.IndexOf(' ')], operation[(operation.IndexOf(' ') + 1)..]);
            var own = http.Single(f => (f.Trigger.Methods ?? []).Any(m => Operation(m, "/" + f.Trigger.Route) == operation));
            var path = SamplePath(own.Trigger.Route!);
            var reached = FirstMatch(http, method, path);
            if (reached?.Name != own.Name)
            {
                unreached.Add($"{method} {path} ({template}) reaches {reached?.Name ?? "nothing"}, not {own.Name}");
            }
        }
        Assert.True(unreached.Count == 0, string.Join("\n", unreached));
    }

    [Fact]
    public void The_route_order_check_sees_a_catch_all_shadow_a_function_named_after_it()
    {
        var catchAll = Http("UnknownRoute", "v1/{*path}", "get", "post", "put", "patch", "delete");
        var updateKey = Http("UpdateApiKey", "v1/api-keys/{id}", "patch");
        var createKey = Http("CreateApiKey", "v1/api-keys", "post");
        Assert.Equal("UnknownRoute", FirstMatch([updateKey, catchAll, createKey], "PATCH", "/v1/api-keys/k1")?.Name);
        Assert.Equal("CreateApiKey", FirstMatch([updateKey, catchAll, createKey], "POST", "/v1/api-keys")?.Name);
        Assert.Null(FirstMatch([updateKey, createKey], "GET", "/v1/api-keys/k1"));
    }

    /// <summary>The function the Functions host would run for this request; null for its bare 404.</summary>
    private static FunctionMetadata? FirstMatch(IEnumerable<FunctionMetadata> http, string method, string path) =>
        http.OrderBy(f => f.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(f =>
            (f.Trigger.Methods is not { Count: > 0 } methods || methods.Contains(method, StringComparer.OrdinalIgnoreCase))
            && new Microsoft.AspNetCore.Routing.Template.TemplateMatcher(
                Microsoft.AspNetCore.Routing.Template.TemplateParser.Parse(f.Trigger.Route!), new Microsoft.AspNetCore.Routing.RouteValueDictionary())
                .TryMatch(path, new Microsoft.AspNetCore.Routing.RouteValueDictionary()));

    private static string SamplePath(string route) => "/" + RouteParameter().Replace(route, m => "p" + m.Index.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static FunctionMetadata Http(string name, string route, params string[] methods) =>
        new(name, "ThreePL.Functions.dll", "Ns.Type.Method", [new BindingMetadata("request", "httpTrigger", "In", route, methods, null, null, null)]);

    [Fact]
    public void Every_triggered_queue_is_named_in_code_and_every_queue_function_reads_one_of_them()
    {
        var triggers = PublishedApp.Functions.Where(f => f.Trigger.Type == "queueTrigger").ToList();
        Assert.All(triggers, f => Assert.Equal(QueueBinding.Connection, f.Trigger.Connection));
        Assert.All(triggers, f => Assert.StartsWith(QueueBinding.Prefix, f.Trigger.QueueName, StringComparison.Ordinal));
        var read = triggers.Select(f => f.Trigger.QueueName![QueueBinding.Prefix.Length..]).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(AppSetup.Storage.TriggeredQueues.ToHashSet(StringComparer.Ordinal), read);
        Assert.Equal(triggers.Count, read.Count);
    }

    /// <summary>
    /// Queues no function reads, each with why, and each named in docs/operations.md ("Poison queues"). Poison
    /// queues (<c>&lt;queue&gt;-poison</c>) are the hosts' own; the app has no outbound queue (webhooks go over HTTP).
    /// </summary>
    private static readonly Dictionary<string, string> s_queuesReadByNoFunction = new(StringComparer.Ordinal)
    {
        [StorageLayout.ReadinessQueue] = "readiness counts its messages as the cheapest queue call; nothing is sent to it",
    };

    /// <summary>
    /// Every queue the code can send to, found without running anything: each queue name is a <c>const string</c>
    /// whose name ends in <c>Queue</c> (read by reflection), and the sources pass nothing else to a queue client, an
    /// outbox message or <see cref="StorageNames.Queue"/>. Each such queue has a queue function in the published
    /// <c>functions.metadata</c>, or is a documented queue no function reads.
    /// </summary>
    [Fact]
    public void Every_queue_the_code_can_send_to_has_a_queue_function_or_is_documented_as_read_by_none()
    {
        var declared = typeof(AppSetup).Assembly.GetTypes()
            .SelectMany(t => t.GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.DeclaredOnly))
            .Where(f => f.IsLiteral && f.FieldType == typeof(string) && f.Name.EndsWith("Queue", StringComparison.Ordinal))
            .ToDictionary(f => $"{f.DeclaringType!.Name}.{f.Name}", f => (string)f.GetRawConstantValue()!, StringComparer.Ordinal);
        Assert.Contains("OrderMessages.RoutingQueue", declared.Keys);

        // What the sources hand to a queue: a declared constant, by Type.Name or (inside its type) by its bare name,
        // or a queue forwarded from an outbox message or the storage inventory, which themselves hold constants.
        var forwarded = new HashSet<string>(StringComparer.Ordinal) { "message.Queue", "m.Queue", "queue" };
        var bareNames = declared.Keys.Select(k => k[(k.IndexOf('.') + 1)..]).ToHashSet(StringComparer.Ordinal);
        var unknown = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Repository.PathOf("src", "Functions"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var text = File.ReadAllText(file);
            foreach (Match literal in QueueLiteral().Matches(text))
            {
                unknown.Add($"{Path.GetFileName(file)}: a literal queue name in '{literal.Value}'");
            }
            foreach (Match use in QueueArgument().Matches(text))
            {
                var argument = use.Groups["queue"].Value;
                if (!declared.ContainsKey(argument) && !bareNames.Contains(argument) && !forwarded.Contains(argument))
                {
                    unknown.Add($"{Path.GetFileName(file)}: '{use.Value}' names a queue that is no declared *Queue constant");
                }
            }
        }
        Assert.True(unknown.Count == 0, string.Join("\n", unknown));

        var triggered = PublishedApp.Functions.Where(f => f.Trigger.Type == "queueTrigger")
            .Select(f => f.Trigger.QueueName![QueueBinding.Prefix.Length..]).ToHashSet(StringComparer.Ordinal);
        var unread = declared.Where(q => !triggered.Contains(q.Value) && !s_queuesReadByNoFunction.ContainsKey(q.Value)).Select(q => $"{q.Key} = {q.Value}").ToList();
        Assert.True(unread.Count == 0, "Queues the code can send to with no queue function: " + string.Join(", ", unread));
        var operations = File.ReadAllText(Path.Combine(Repository.PathOf("src", "Functions"), "..", "..", "docs", "operations.md"));
        Assert.All(s_queuesReadByNoFunction.Keys, q => Assert.Contains($"`{q}`", operations, StringComparison.Ordinal));
        Assert.Superset(triggered, declared.Values.Where(v => !s_queuesReadByNoFunction.ContainsKey(v)).ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>A string literal where a queue name goes: a queue client, the storage names, an outbox message's queue.</summary>
    [GeneratedRegex(@"(GetQueueClient|names\.Queue|StorageNames\.Poison|new QueueClient)\(\s*\$?""|new OutboxMessage\([^,;]+,\s*\$?""")]
    private static partial Regex QueueLiteral();

    /// <summary>The queue handed to the storage names or to an outbox message (its second argument).</summary>
    [GeneratedRegex(@"names\.Queue\((?<queue>[\w.]+)\)|new OutboxMessage\([^,;]+,\s*(?<queue>[\w.]+)\s*,")]
    private static partial Regex QueueArgument();

    [Fact]
    public async Task No_http_route_reaches_a_function_that_is_not_an_http_function()
    {
        var others = PublishedApp.Functions.Where(f => f.Trigger.Type != "httpTrigger").ToList();
        Assert.NotEmpty(others);
        using var app = new TestApp(azurite);
        using var client = app.CreateClient();
        foreach (var function in others)
        {
            var queue = function.Trigger.QueueName?.Replace(QueueBinding.Prefix, "", StringComparison.Ordinal);
            foreach (var path in new[] { function.Name, "api/" + function.Name, "admin/functions/" + function.Name, "runtime/webhooks/" + function.Name, queue })
            {
                if (path is null)
                {
                    continue;
                }
                var response = await client.PostAsync("/" + path, JsonContent.Create(new { }));
                Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"POST /{path} answered {(int)response.StatusCode}.");
            }
        }
    }

    /// <summary>
    /// Drives the whole product once (invitation, approval, per-client webhook, order, shipping, billing, hand-back)
    /// and records, from the storage pipeline, every queue the app sends to: each must have a queue function.
    /// </summary>
    [Fact]
    public async Task Every_queue_the_app_sends_to_has_a_queue_function()
    {
        var sent = new QueueSendRecorder();
        // The first webhook fails, so its retry goes through the delivery queue (first attempts never do).
        await using var receiver = await TestReceiver.StartAsync((number, context) => TestReceiver.Status(context, number == 1 ? 503 : 200));
        using var app = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:Webhooks:RetrySchedule"] = "00:00:01" }, s => s.AddSingleton(new StoragePolicy(sent)));
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var connection = await Connect.ActiveAsync(app, threePl, merchant);
        using var tpl = app.WithKey(threePl.ApiKey);
        using var shop = app.WithKey(merchant.ApiKey);
        await ApiAssert.Json(await tpl.PatchAsync($"/v1/connections/{connection}/settings", JsonContent.Create(new { webhookUrl = receiver.HookUrl })), HttpStatusCode.OK);
        var shipped = (await OrderTestKit.SubmitAsync(shop, "m-1")).GetProperty("id").GetString()!;
        var handedBack = (await OrderTestKit.SubmitAsync(shop, "m-2")).GetProperty("id").GetString()!;
        await OrderTestKit.WaitForStatusAsync(tpl, shipped, "awaiting_shipment");
        await OrderTestKit.WaitForStatusAsync(tpl, handedBack, "awaiting_shipment");
        await ApiAssert.Json(await tpl.PostAsync($"/v1/orders/{shipped}/start", null), HttpStatusCode.OK);
        await ApiAssert.Json(await tpl.PostAsJsonAsync($"/v1/orders/{shipped}/ship", new { carrier = "dhl", service = "express", trackingNumber = "T1" }), HttpStatusCode.OK);
        await ApiAssert.Json(await tpl.PostAsync($"/v1/connections/{connection}/deactivate", null), HttpStatusCode.OK);
        await OrderTestKit.WaitForStatusAsync(shop, handedBack, "open");
        // Other events arrive meanwhile; what matters is that the one answered 503 came again, through the delivery queue.
        await Eventually.True(() => Task.FromResult(receiver.Hooks.GroupBy(h => h.Id).Any(g => g.Count() >= 2)), "the webhook answered 503 to be retried");

        var names = app.Services.GetRequiredService<StorageNames>();
        var triggered = PublishedApp.Functions.Where(f => f.Trigger.Type == "queueTrigger")
            .Select(f => names.Queue(f.Trigger.QueueName![QueueBinding.Prefix.Length..]))
            .ToHashSet(StringComparer.Ordinal);
        var queues = sent.Queues.Where(q => q.StartsWith(app.Prefix, StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        // The drive reached routing, the HTTP commands' events (the shipment's usage line is recorded from its event) and retries.
        Assert.Superset(new HashSet<string>(StringComparer.Ordinal) { names.Queue("order-routing"), names.Queue("events"), names.Queue("webhook-deliveries") }, queues);
        Assert.True(queues.IsSubsetOf(triggered), "Queues sent to without a queue function: " + string.Join(", ", queues.Except(triggered)));
    }

    private static string Operation(string method, string route) => method.ToUpperInvariant() + " " + RouteParameter().Replace(route, "{}");

    private static IEnumerable<string> Documented()
    {
        var paths = ApiDocumentFunctions.Load()["paths"]!.AsObject();
        foreach (var (path, item) in paths)
        {
            foreach (var (method, _) in item!.AsObject())
            {
                if (method is "get" or "post" or "put" or "patch" or "delete")
                {
                    yield return Operation(method, path);
                }
            }
        }
    }

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex RouteParameter();

    /// <summary>Records the queue of every message send (POST …/{queue}/messages).</summary>
    private sealed class QueueSendRecorder : HttpPipelinePolicy
    {
        private readonly ConcurrentDictionary<string, bool> _queues = new(StringComparer.Ordinal);

        public IEnumerable<string> Queues => _queues.Keys;

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Record(message.Request);
            ProcessNext(message, pipeline);
        }

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Record(message.Request);
            return ProcessNextAsync(message, pipeline);
        }

        private void Record(Request request)
        {
            var segments = request.Uri.ToUri().AbsolutePath.Trim('/').Split('/');
            if (request.Method == RequestMethod.Post && segments.Length >= 2 && segments[^1] == "messages")
            {
                _queues.TryAdd(segments[^2], true);
            }
        }
    }

    /// <summary>The app as <c>dotnet publish</c> lays it out for the Functions host, published once for the class.</summary>
    public sealed class PublishedApp : IDisposable
    {
        private static readonly Lazy<(string Directory, IReadOnlyList<FunctionMetadata> Functions)> s_published = new(Publish);

        public static string Directory => s_published.Value.Directory;

        public static IReadOnlyList<FunctionMetadata> Functions => s_published.Value.Functions;

        public void Dispose()
        {
            if (s_published.IsValueCreated)
            {
                System.IO.Directory.Delete(s_published.Value.Directory, recursive: true);
            }
        }

        private static (string, IReadOnlyList<FunctionMetadata>) Publish()
        {
            var project = Path.Combine(Repository.Root, "src", "Functions", "ThreePL.Functions.csproj");
            var output = System.IO.Directory.CreateTempSubdirectory("threepl-publish-").FullName;
            // The test run has built the app in this configuration; publishing that build is what scripts/publish.sh packs.
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
            using var process = Process.Start(new ProcessStartInfo("dotnet", ["publish", project, "-c", configuration, "--no-build", "-nologo", "-v", "quiet", "-o", output])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(3)) || process.ExitCode != 0)
            {
                throw new InvalidOperationException($"dotnet publish failed:\n{stdout.Result}\n{stderr.Result}");
            }
            return (output, FunctionMetadata.Load(Path.Combine(output, FunctionMetadata.FileName)));
        }
    }
}
