using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Queues;

namespace ThreePL.Functions.Infrastructure;

/// <summary>A pipeline policy every storage client of the app gets (tests and the benchmark count operations this way).</summary>
public sealed record StoragePolicy(HttpPipelinePolicy Policy);

/// <summary>
/// The Azure SDK clients for <c>AzureWebJobsStorage</c>, read as the Functions host reads it: a connection string
/// locally (Azurite), or in Azure the identity-based form (<c>__tableServiceUri</c>, <c>__queueServiceUri</c>, or
/// just <c>__accountName</c>, and <c>__clientId</c> of the user-assigned identity) with no key.
/// </summary>
public static class StorageClients
{
    public const string Setting = "AzureWebJobsStorage";

    // One handler for every client: connections are pooled per handler, and a handler per client leaks sockets.
    // Azurite drops idle keep-alive connections after 5 s; retiring ours sooner avoids sending on a closing socket.
    private static readonly HttpClientTransport s_sharedTransport = new(new SocketsHttpHandler
    {
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(3),
    });

    public static TableServiceClient Tables(IConfiguration configuration, IEnumerable<StoragePolicy>? policies = null)
    {
        var options = Configure(new TableClientOptions(), policies);
        return configuration[Setting] is { Length: > 0 } connectionString
            ? new TableServiceClient(connectionString, options)
            : new TableServiceClient(ServiceUri(configuration, "table"), Credential(configuration), options);
    }

    /// <summary>
    /// Messages travel as base64, the queue trigger's encoding, so the Functions host reads what we send. The service
    /// version is pinned to the newest Azurite accepts; Azure accepts it too.
    /// </summary>
    public static QueueServiceClient Queues(IConfiguration configuration, IEnumerable<StoragePolicy>? policies = null)
    {
        var options = Configure(new QueueClientOptions(QueueClientOptions.ServiceVersion.V2026_06_06) { MessageEncoding = QueueMessageEncoding.Base64 }, policies);
        return configuration[Setting] is { Length: > 0 } connectionString
            ? new QueueServiceClient(connectionString, options)
            : new QueueServiceClient(ServiceUri(configuration, "queue"), Credential(configuration), options);
    }

    /// <summary>For tools and tests that hold a connection string rather than configuration.</summary>
    public static IConfiguration FromConnectionString(string connectionString) =>
        new ConfigurationBuilder().AddInMemoryCollection([new(Setting, connectionString)]).Build();

    private static T Configure<T>(T options, IEnumerable<StoragePolicy>? policies)
        where T : ClientOptions
    {
        options.Transport = s_sharedTransport;
        // Azurite's queue garbage collection stalls the whole process for 20-36 s; a short timeout turns that
        // into retries of requests that may already have succeeded.
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(120);
        foreach (var policy in policies ?? [])
        {
            options.AddPolicy(policy.Policy, HttpPipelinePosition.PerCall);
        }
        return options;
    }

    private static Uri ServiceUri(IConfiguration configuration, string service)
    {
        var section = configuration.GetSection(Setting);
        var accountName = section["accountName"];
        var text = section[$"{service}ServiceUri"] ?? (string.IsNullOrEmpty(accountName) ? null : $"https://{accountName}.{service}.core.windows.net");
        return Uri.TryCreate(text, UriKind.Absolute, out var uri)
            ? uri
            : throw new InvalidOperationException(
                $"Storage is not configured: set {Setting} to a connection string, or {Setting}__{service}ServiceUri (or __accountName) for a managed identity.");
    }

    // __credential is for the host; we always use the managed identity named by __clientId, or DefaultAzureCredential without one.
    internal static TokenCredential Credential(IConfiguration configuration) =>
        configuration[$"{Setting}:clientId"] is { Length: > 0 } clientId
            ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
            : new DefaultAzureCredential();
}
