using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ThreePL.Functions.Tests.Infrastructure;

/// <summary>
/// The real app against the shared Azurite, isolated from every other test by its own storage prefix.
/// Settings and extra services (test functions, a fake clock) are given per test. Every client it hands out checks each
/// response against the OpenAPI document (<see cref="ContractCheckingHandler"/>): a response the document does not
/// describe fails the test that caused it.
/// </summary>
public sealed class TestApp : WebApplicationFactory<ThreePL.LocalHost.DevelopmentHost>
{
    public const string AdminKey = "test-admin-key";
    public const string HubNameSetting = "AzureFunctionsJobHost:extensions:durableTask:hubName";

    private readonly AzuriteFixture _azurite;
    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;
    private readonly ConcurrentQueue<string> _violations = new();

    /// <param name="azurite">The shared Azurite.</param>
    /// <param name="settings">Configuration overrides.</param>
    /// <param name="services">Extra or replaced services.</param>
    /// <param name="prefix">Reuse another app's storage (a restart after a simulated crash); default: a fresh prefix.</param>
    public TestApp(AzuriteFixture azurite, IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null, string? prefix = null)
    {
        _azurite = azurite;
        Prefix = prefix ?? NewPrefix();
        MailDirectory = Path.Combine(Path.GetTempPath(), "threepl-mail-" + Prefix);
        _settings = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["ThreePL:Storage:Prefix"] = Prefix,
            ["ThreePL:AdminKey"] = AdminKey,
            ["ThreePL:PublicBaseUrl"] = "http://127.0.0.1:7071",
            ["ThreePL:SigningKey"] = "test-signing-key-0123456789abcdef0123456789",
            ["ThreePL:Email:PickupDirectory"] = MailDirectory,
            ["ThreePL:AllowInsecureWebhooks"] = "true",
            ["ThreePL:Outbox:SafetyNetDelay"] = "00:00:02",
            ["ThreePL:Orders:HandbackSettle"] = "00:00:02",
            // Most tests invite; the floor is shown where it matters (Security/InvitationEnumerationTests).
            ["ThreePL:InvitationAnswerFloor"] = "00:00:00",
            ["AzureFunctionsJobHost:extensions:queues:maxPollingInterval"] = "00:00:00.200",
            ["AzureFunctionsJobHost:extensions:queues:visibilityTimeout"] = "00:00:00",
            // A task hub of its own, like the storage prefix; polled often, so the workflows answer in test time.
            [HubNameSetting] = HubName(Prefix),
            ["AzureFunctionsJobHost:extensions:durableTask:storageProvider:maxQueuePollingInterval"] = "00:00:00.500",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
        _services = services;
    }

    public string Prefix { get; }

    /// <summary>Where this app's e-mails land (the pickup-folder sender).</summary>
    public string MailDirectory { get; }

    /// <summary>The Durable task hub of the app with storage prefix <paramref name="prefix"/> (a restart reuses both).</summary>
    public static string HubName(string prefix) => "hub" + prefix;

    /// <summary>
    /// The app as if it died right after each commit: nothing is relayed inline, so only the safety net or the order
    /// command's follow-up message (after <paramref name="safetyNetDelay"/>) or a restarted app delivers what a command committed.
    /// </summary>
    public static Action<IServiceCollection> DiesAfterEachCommit(TimeSpan safetyNetDelay, Action<IServiceCollection>? more = null) => services =>
    {
        services.AddSingleton(new ThreePL.Functions.Messaging.OutboxOptions { SafetyNetDelay = safetyNetDelay });
        services.AddSingleton<ThreePL.Functions.Messaging.AfterCommit, DiesAfterCommit>();
        more?.Invoke(services);
    };

    public static string NewPrefix()
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        return "t" + RandomNumberGenerator.GetString(alphabet, 11);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureAppConfiguration(c => c.AddInMemoryCollection(_settings));
        if (_services is not null)
        {
            builder.ConfigureTestServices(_services);
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && Directory.Exists(MailDirectory))
        {
            try
            {
                Directory.Delete(MailDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A workflow activity still finishing may write one more e-mail meanwhile; a temp folder left behind is harmless.
            }
        }
        if (disposing && !_violations.IsEmpty)
        {
            throw new ContractViolationException(string.Join("\n", _violations.Distinct()));
        }
    }

    /// <summary>A client like <see cref="WebApplicationFactory{TEntryPoint}.CreateClient()"/> (redirects, cookies) whose responses are held to the contract.</summary>
    public new HttpClient CreateClient()
    {
        var client = CreateDefaultClient(new RedirectHandler(), new CookieContainerHandler(), new ContractCheckingHandler(ApiContract.Document, _violations.Enqueue));
        // The in-memory server's default; with UseKestrel the factory has already set the listening address.
        client.BaseAddress ??= ClientOptions.BaseAddress;
        return client;
    }

    public HttpClient Admin()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return client;
    }

    public HttpClient WithKey(string key)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }
}
