using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ThreePL.Functions.Hosting;

namespace ThreePL.Functions.Tests.Hosting;

/// <summary>
/// The Functions package layout, without a full self-contained publish (scripts/publish.sh does that and runs the
/// same generator): host.json names our executable, and every queue and timer function registered in the app's DI
/// container has its folder and function.json with the same name and queue, with no folder left over.
/// </summary>
public sealed class FunctionPackageTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("threepl-package").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void The_generated_function_folders_match_the_functions_registered_in_the_app()
    {
        // The real entry point with the switch publish.sh passes to the published executable.
        var entryPoint = typeof(Program).Assembly.EntryPoint!;
        entryPoint.Invoke(null, [new[] { FunctionManifest.Switch, _directory }]);

        using var app = BuildApp();
        var queueFunctions = app.Services.GetServices<IQueueFunction>().ToList();
        var timerFunctions = app.Services.GetServices<ITimerFunction>().ToList();
        Assert.NotEmpty(queueFunctions);

        var folders = Directory.GetDirectories(_directory).Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal).ToList();
        var expected = queueFunctions.Select(f => f.Name).Concat(timerFunctions.Select(f => f.Name)).Concat(FunctionManifest.HttpRoutes.Keys)
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, folders);
        Assert.Empty(Directory.GetFiles(_directory));

        foreach (var function in queueFunctions)
        {
            var binding = SingleTrigger(function.Name);
            Assert.Equal("queueTrigger", binding.GetProperty("type").GetString());
            Assert.Equal("in", binding.GetProperty("direction").GetString());
            Assert.Equal("message", binding.GetProperty("name").GetString());
            Assert.Equal(function.QueueName, binding.GetProperty("queueName").GetString());
            Assert.Equal("AzureWebJobsStorage", binding.GetProperty("connection").GetString());
        }
        foreach (var function in timerFunctions)
        {
            var binding = SingleTrigger(function.Name);
            Assert.Equal("timerTrigger", binding.GetProperty("type").GetString());
            Assert.Equal("timer", binding.GetProperty("name").GetString());
            Assert.Equal(function.Schedule, binding.GetProperty("schedule").GetString());
        }

        foreach (var (name, route) in FunctionManifest.HttpRoutes)
        {
            var http = Bindings(name);
            Assert.Equal(2, http.Count);
            Assert.Equal("httpTrigger", http[0].GetProperty("type").GetString());
            Assert.Equal("anonymous", http[0].GetProperty("authLevel").GetString());
            Assert.Equal(route, http[0].GetProperty("route").GetString());
            Assert.Equal(["get", "post", "put", "patch", "delete", "head", "options"], http[0].GetProperty("methods").EnumerateArray().Select(m => m.GetString()));
            Assert.Equal("http", http[1].GetProperty("type").GetString());
            Assert.Equal("out", http[1].GetProperty("direction").GetString());
        }

        // No public route reaches a queue or timer function's invocation endpoint.
        var publicPrefixes = FunctionManifest.HttpRoutes.Values.Select(r => r.Split('/')[0]).ToList();
        Assert.All(queueFunctions.Select(f => f.Name).Concat(timerFunctions.Select(f => f.Name)),
            name => Assert.DoesNotContain(publicPrefixes, p => string.Equals(p, name, StringComparison.OrdinalIgnoreCase)));
    }

    [Fact]
    public void Host_json_names_the_app_executable_and_forwards_http_at_the_root()
    {
        var path = HostJson.Find(AppContext.BaseDirectory);
        Assert.NotNull(path);
        using var hostJson = JsonDocument.Parse(File.ReadAllText(path!));
        var customHandler = hostJson.RootElement.GetProperty("customHandler");
        Assert.Equal(typeof(Program).Assembly.GetName().Name, customHandler.GetProperty("description").GetProperty("defaultExecutablePath").GetString());
        Assert.True(customHandler.GetProperty("enableForwardingHttpRequest").GetBoolean());
        Assert.Equal("", hostJson.RootElement.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString());
        Assert.Equal("2.0", hostJson.RootElement.GetProperty("version").GetString());
    }

    [Fact]
    public void Two_functions_with_the_same_name_fail_the_generator()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IQueueFunction, AlwaysFailingFunction>();
        services.AddSingleton<IQueueFunction, AlwaysFailingFunction>();
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() => FunctionManifest.Build(provider));
        Assert.Contains("AlwaysFails", error.Message);
    }

    /// <summary>The app's own composition, as the generator and the host build it; nothing is started.</summary>
    private static WebApplication BuildApp()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
            ["ThreePL:SigningKey"] = "test-signing-key-0123456789abcdef0123456789",
        });
        AppSetup.Configure(builder);
        return builder.Build();
    }

    private List<JsonElement> Bindings(string function)
    {
        var path = Path.Combine(_directory, function, FunctionManifest.FileName);
        Assert.True(File.Exists(path), $"{function}/{FunctionManifest.FileName} is missing");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.GetProperty("bindings").EnumerateArray().Select(b => b.Clone()).ToList();
    }

    private JsonElement SingleTrigger(string function) => Assert.Single(Bindings(function));
}
