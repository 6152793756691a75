using System.Text.Json;
using System.Text.Json.Nodes;

namespace ThreePL.Functions.Hosting;

/// <summary>
/// Writes the <c>function.json</c> files the Functions host needs next to <c>host.json</c>: one folder per
/// registered <see cref="IQueueFunction"/> and <see cref="ITimerFunction"/>, named after the function, plus one
/// HTTP function per public path prefix (<see cref="HttpRoutes"/>) that forwards requests to the app. Only those
/// prefixes are reachable from outside: the invocation endpoints <c>/{FunctionName}</c> of the queue and timer
/// functions answer the host on its local port but match no public route. Generated from the app's own DI container
/// (<c>ThreePL.Functions --emit-function-json DIR</c>, run by <c>scripts/publish.sh</c>), so a function added in
/// code can never be missing from the package, and a removed one can never linger.
/// </summary>
public static class FunctionManifest
{
    public const string Switch = "--emit-function-json";

    /// <summary>The public HTTP functions and their routes. No queue or timer function may take these names.</summary>
    public static readonly IReadOnlyDictionary<string, string> HttpRoutes = new Dictionary<string, string>
    {
        ["HttpApi"] = "v1/{*path}",
        ["HttpConnect"] = "connect/{*path}",
        ["HttpOpenApi"] = "openapi/{*path}",
        ["HttpHealthz"] = "healthz",
        ["HttpReadyz"] = "readyz",
    };

    /// <summary>The connection setting the host's queue triggers read (identity-based in Azure).</summary>
    public const string Connection = "AzureWebJobsStorage";

    public const string FileName = "function.json";

    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };

    /// <summary><c>--emit-function-json DIR</c> on the command line, or null.</summary>
    public static string? OutputDirectory(string[] args)
    {
        var index = Array.IndexOf(args, Switch);
        if (index < 0)
        {
            return null;
        }
        return index + 1 < args.Length && !args[index + 1].StartsWith("--", StringComparison.Ordinal)
            ? args[index + 1]
            : throw new ArgumentException($"{Switch} needs a directory.");
    }

    /// <summary>
    /// Builds the app as it would run (same composition, no listeners started, nothing connected) and writes the
    /// function folders into <paramref name="directory"/>. Settings the composition requires but the manifest does
    /// not depend on get placeholders, so the generator runs on a build machine with no configuration.
    /// </summary>
    public static IReadOnlyList<string> Emit(string[] args, string directory)
    {
        var builder = WebApplication.CreateBuilder(args.Where(a => a != Switch && a != directory).ToArray());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
            ["ThreePL:SigningKey"] = "function-manifest-placeholder-0123456789abcdef",
            ["ThreePL:Storage:Prefix"] = "",
            [CustomHandler.PortVariable] = "",
        });
        AppSetup.Configure(builder);
        builder.Logging.ClearProviders();
        using var app = builder.Build();
        return Write(app.Services, directory);
    }

    /// <summary>Writes one folder per function; fails on duplicate or reserved names instead of overwriting.</summary>
    public static IReadOnlyList<string> Write(IServiceProvider services, string directory)
    {
        var functions = Build(services);
        Directory.CreateDirectory(directory);
        foreach (var (name, json) in functions)
        {
            var folder = Path.Combine(directory, name);
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, FileName), json.ToJsonString(s_indented) + "\n");
        }
        return functions.Keys.ToList();
    }

    /// <summary>Function name → its <c>function.json</c>.</summary>
    public static IReadOnlyDictionary<string, JsonObject> Build(IServiceProvider services)
    {
        var result = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var (name, route) in HttpRoutes)
        {
            result[name] = Http(route);
        }
        foreach (var function in services.GetServices<IQueueFunction>())
        {
            Add(result, function.Name, Queue(function.QueueName));
        }
        foreach (var function in services.GetServices<ITimerFunction>())
        {
            Add(result, function.Name, Timer(function.Schedule));
        }
        return result;
    }

    private static void Add(IDictionary<string, JsonObject> functions, string name, JsonObject json)
    {
        // The host matches function folders case-insensitively and POSTs to /{name}: names must be unique that way.
        if (functions.Keys.Any(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase)))
        {
            throw new InvalidOperationException($"Two functions are named '{name}' (or one uses a reserved HTTP function name).");
        }
        functions[name] = json;
    }

    /// <summary>Every method under <paramref name="route"/>, forwarded unchanged (<c>enableForwardingHttpRequest</c>); the app authenticates.</summary>
    private static JsonObject Http(string route) => new()
    {
        ["bindings"] = new JsonArray(
            new JsonObject
            {
                ["type"] = "httpTrigger",
                ["direction"] = "in",
                ["name"] = "req",
                ["authLevel"] = "anonymous",
                ["route"] = route,
                ["methods"] = new JsonArray("get", "post", "put", "patch", "delete", "head", "options"),
            },
            new JsonObject { ["type"] = "http", ["direction"] = "out", ["name"] = "res" }),
    };

    private static JsonObject Queue(string queueName) => new()
    {
        ["bindings"] = new JsonArray(new JsonObject
        {
            ["type"] = "queueTrigger",
            ["direction"] = "in",
            ["name"] = "message",
            ["queueName"] = queueName,
            ["connection"] = Connection,
        }),
    };

    private static JsonObject Timer(string schedule) => new()
    {
        ["bindings"] = new JsonArray(new JsonObject
        {
            ["type"] = "timerTrigger",
            ["direction"] = "in",
            ["name"] = "timer",
            ["schedule"] = schedule,
        }),
    };
}
