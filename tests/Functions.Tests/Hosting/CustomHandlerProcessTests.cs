using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Hosting;

/// <summary>
/// The built app as a real process, driven the way the Functions host drives a custom handler: the host sets
/// <c>FUNCTIONS_CUSTOMHANDLER_PORT</c>, forwards HTTP requests unchanged and POSTs queue invocations to
/// <c>/{FunctionName}</c>. Settings come only from environment variables, as app settings do in Azure, and
/// OpenTelemetry exports to a local OTLP/HTTP receiver.
/// </summary>
[Collection("azurite")]
public sealed class CustomHandlerProcessTests(AzuriteFixture azurite) : IDisposable
{
    private readonly string _workingDirectory = Directory.CreateTempSubdirectory("threepl-handler").FullName;

    public void Dispose() => Directory.Delete(_workingDirectory, recursive: true);

    [Fact]
    public async Task The_app_answers_forwarded_http_and_queue_invocations_as_a_custom_handler()
    {
        using var otlp = new OtlpReceiver();
        var port = FreePort();
        var prefix = TestApp.NewPrefix();
        using var app = StartApp(new Dictionary<string, string>
        {
            ["FUNCTIONS_CUSTOMHANDLER_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["ThreePL__Storage__Prefix"] = prefix,
            ["ThreePL__AdminKey"] = TestApp.AdminKey,
            ["ThreePL__SigningKey"] = "test-signing-key-0123456789abcdef0123456789",
            ["ThreePL__PublicBaseUrl"] = "https://threepl.example",
            ["ThreePL__Email__PickupDirectory"] = Path.Combine(_workingDirectory, "mail"),
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        });
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(100) };
            await Eventually.True(async () => await TryGetAsync(http, "/readyz") == HttpStatusCode.OK, "the app to be ready", TimeSpan.FromSeconds(60));

            // Forwarded HTTP requests, as they arrived at the host.
            var health = await ApiAssert.Json(await http.GetAsync("/healthz"), HttpStatusCode.OK);
            Assert.Equal("ok", health.GetProperty("status").GetString());
            using var create = new HttpRequestMessage(HttpMethod.Post, "/v1/admin/accounts")
            {
                Content = JsonContent.Create(new { kind = "threepl", name = "Fast Fulfilment", email = $"ops-{prefix}@fastfulfil.example" }),
            };
            create.Headers.Authorization = new("Bearer", TestApp.AdminKey);
            await ApiAssert.Json(await http.SendAsync(create), HttpStatusCode.Created);

            // A queue invocation, as the host POSTs it: the message (as Outbox enqueues it) under the trigger binding's name.
            var invocation = await http.PostAsJsonAsync("/OutboxRelay", Invocation("""{"Table":"connections","PartitionKey":"con_x"}""", "OutboxRelay"));
            Assert.True(invocation.StatusCode == HttpStatusCode.OK, $"OutboxRelay answered {(int)invocation.StatusCode}; the app wrote:\n{Output()}");
            var result = await ApiAssert.Json(invocation, HttpStatusCode.OK);
            Assert.Equal(System.Text.Json.JsonValueKind.Object, result.GetProperty("Outputs").ValueKind);
            Assert.Equal(System.Text.Json.JsonValueKind.Array, result.GetProperty("Logs").ValueKind);
            Assert.Equal(System.Text.Json.JsonValueKind.Null, result.GetProperty("ReturnValue").ValueKind);

            // A failing invocation answers non-2xx, which the host counts as a failed attempt (retry, then poison).
            var failed = await http.PostAsJsonAsync("/OutboxRelay", Invocation("""{"Table":"nope","PartitionKey":"con_x"}""", "OutboxRelay"));
            Assert.False(failed.IsSuccessStatusCode, $"Expected a failure status, got {(int)failed.StatusCode}");

            // Traces reach the OTLP endpoint: our invocation span, and Azure.Core's storage request spans.
            await Eventually.True(() => Task.FromResult(otlp.TracesContain("queue OutboxRelay") && otlp.TracesContain("Azure.Core.Http")),
                "the invocation and storage spans at the OTLP receiver", TimeSpan.FromSeconds(30));
        }
        finally
        {
            Stop(app);
        }
    }

    private static object Invocation(string message, string function) => new
    {
        Data = new { message },
        Metadata = new { DequeueCount = 1, Id = Guid.NewGuid().ToString(), InsertionTime = DateTimeOffset.UtcNow, PopReceipt = "receipt", sys = new { MethodName = function, UtcNow = DateTimeOffset.UtcNow } },
    };

    private Process StartApp(IDictionary<string, string> environment)
    {
        // The app's build output sits next to ours (project reference): its dll, deps and runtimeconfig, host.json.
        var dll = Path.Combine(AppContext.BaseDirectory, "ThreePL.Functions.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing");
        var startInfo = new ProcessStartInfo("dotnet", $"\"{dll}\"")
        {
            WorkingDirectory = _workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in environment)
        {
            startInfo.Environment[key] = value;
        }
        var process = Process.Start(startInfo)!;
        process.OutputDataReceived += (_, e) => Record(e.Data);
        process.ErrorDataReceived += (_, e) => Record(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private readonly StringBuilder _output = new();

    private void Record(string? line)
    {
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    /// <summary>What the app wrote, for failure messages.</summary>
    private string Output()
    {
        lock (_output)
        {
            return _output.ToString();
        }
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
    }

    private static async Task<HttpStatusCode?> TryGetAsync(HttpClient http, string path)
    {
        try
        {
            using var response = await http.GetAsync(path);
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Accepts OTLP/HTTP exports on loopback and keeps the bodies (protobuf keeps strings as UTF-8).</summary>
    private sealed class OtlpReceiver : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly List<byte[]> _traces = [];
        private readonly Task _loop;

        public OtlpReceiver()
        {
            var port = FreePort();
            Endpoint = $"http://127.0.0.1:{port}";
            _listener.Prefixes.Add(Endpoint + "/");
            _listener.Start();
            _loop = Task.Run(LoopAsync);
        }

        public string Endpoint { get; }

        public bool TracesContain(string text)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            lock (_traces)
            {
                return _traces.Any(body => body.AsSpan().IndexOf(bytes) >= 0);
            }
        }

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                if (context.Request.Url?.AbsolutePath == "/v1/traces")
                {
                    lock (_traces)
                    {
                        _traces.Add(body.ToArray());
                    }
                }
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
                context.Response.Close();
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
    }
}
