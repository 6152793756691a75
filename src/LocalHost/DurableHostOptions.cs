using System.Globalization;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using DurableTask.AzureStorage;

namespace ThreePL.LocalHost;

/// <summary>
/// The Durable settings of <c>host.json</c> (<c>extensions.durableTask</c>) that the development host honours, with
/// the Durable Functions defaults, so both hosts run one task hub the same way: the hub name, and the Azure Storage
/// provider's partition count and longest queue polling interval.
/// </summary>
public sealed record DurableHostOptions
{
    public const string WorkerIdSetting = "ThreePL:Hosting:WorkerId";

    public required string HubName { get; init; }
    public int PartitionCount { get; init; } = 4;
    public TimeSpan MaxQueuePollingInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Who holds the task hub's partition leases. It must outlive a crash (a restarted host with the same id takes
    /// its leases back at once instead of waiting ~30 s for them to expire) and differ between instances that run
    /// side by side on one machine, so it defaults to the machine name and the port the host listens on.
    /// </summary>
    public required string WorkerId { get; init; }

    public static DurableHostOptions FromConfiguration(IConfiguration configuration)
    {
        var section = configuration.GetSection($"{HostJson.Section}:extensions:durableTask");
        var hubName = section["hubName"];
        if (string.IsNullOrEmpty(hubName))
        {
            throw new InvalidOperationException("host.json must name the task hub (extensions.durableTask.hubName), as the Functions host needs it too.");
        }
        var provider = section.GetSection("storageProvider");
        var defaults = new DurableHostOptions { HubName = hubName, WorkerId = "" };
        var urls = configuration["ThreePL:Urls"] ?? ThreePL.Functions.AppSetup.DefaultUrl;
        return defaults with
        {
            PartitionCount = provider["partitionCount"] is { } count ? int.Parse(count, CultureInfo.InvariantCulture) : defaults.PartitionCount,
            MaxQueuePollingInterval = provider["maxQueuePollingInterval"] is { } polling ? TimeSpan.Parse(polling, CultureInfo.InvariantCulture) : defaults.MaxQueuePollingInterval,
            WorkerId = configuration[WorkerIdSetting] is { Length: > 0 } id ? id : $"{Environment.MachineName}-{new Uri(urls.Split(';')[0]).Port}",
        };
    }

    /// <summary>
    /// The task hub's storage from <c>AzureWebJobsStorage</c>, as the Durable extension reads it: a connection string
    /// (Azurite's locally, with its blob, queue and table endpoints), or the identity-based
    /// <c>__blobServiceUri</c>/<c>__queueServiceUri</c>/<c>__tableServiceUri</c> with <c>__clientId</c>.
    /// </summary>
    public static StorageAccountClientProvider StorageFromConfiguration(IConfiguration configuration)
    {
        // Azurite accepts service versions up to 2026-06-06; the pinned queue SDK would send a newer one.
        var queueOptions = new QueueClientOptions(QueueClientOptions.ServiceVersion.V2026_06_06);
        var connectionString = configuration["AzureWebJobsStorage"];
        if (!string.IsNullOrEmpty(connectionString))
        {
            return new StorageAccountClientProvider(
                StorageServiceClientProvider.ForBlob(connectionString, new BlobClientOptions()),
                StorageServiceClientProvider.ForQueue(connectionString, queueOptions),
                StorageServiceClientProvider.ForTable(connectionString));
        }
        var section = configuration.GetSection("AzureWebJobsStorage");
        if (Uri.TryCreate(section["blobServiceUri"], UriKind.Absolute, out var blob)
            && Uri.TryCreate(section["queueServiceUri"], UriKind.Absolute, out var queue)
            && Uri.TryCreate(section["tableServiceUri"], UriKind.Absolute, out var table))
        {
            var credential = section["clientId"] is { Length: > 0 } clientId
                ? (Azure.Core.TokenCredential)new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
                : new DefaultAzureCredential();
            return new StorageAccountClientProvider(blob, queue, table, credential);
        }
        throw new InvalidOperationException("The Durable task hub needs AzureWebJobsStorage: a connection string with a BlobEndpoint, or __blobServiceUri, __queueServiceUri and __tableServiceUri.");
    }
}
