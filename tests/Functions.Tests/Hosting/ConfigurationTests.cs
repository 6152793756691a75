using Microsoft.Extensions.Configuration;
using ThreePL.LocalHost;

namespace ThreePL.Functions.Tests.Hosting;

public sealed class ConfigurationTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("threepl-config").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Local_settings_win_over_the_sample_and_double_underscores_become_sections()
    {
        File.WriteAllText(Path.Combine(_directory, LocalSettings.SampleFileName), """{"IsEncrypted":false,"Values":{"ThreePL:AdminKey":"sample"}}""");
        Assert.Equal("sample", LocalSettings.Load(_directory)["ThreePL:AdminKey"]);

        File.WriteAllText(Path.Combine(_directory, LocalSettings.FileName), """{"IsEncrypted":false,"Values":{"ThreePL__AdminKey":"mine","Flag":true}}""");
        var values = LocalSettings.Load(_directory);
        Assert.Equal("mine", values["ThreePL:AdminKey"]);
        Assert.Equal("true", values["Flag"]);
    }

    [Fact]
    public void Queue_settings_come_from_host_json_with_functions_defaults()
    {
        var path = Path.Combine(_directory, HostJson.FileName);
        File.WriteAllText(path, """{"version":"2.0","extensions":{"queues":{"batchSize":4,"maxDequeueCount":2,"visibilityTimeout":"00:00:07"}}}""");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(HostJson.Load(path)).Build();

        var options = QueueHostOptions.FromConfiguration(configuration);

        Assert.Equal(4, options.BatchSize);
        Assert.Equal(2, options.NewBatchThreshold);
        Assert.Equal(2, options.MaxDequeueCount);
        Assert.Equal(TimeSpan.FromSeconds(7), options.VisibilityTimeout);
        Assert.Equal(TimeSpan.FromMinutes(1), options.MaxPollingInterval);
    }

    [Fact]
    public void The_repository_host_json_routes_at_the_root_and_reads_base64_queues()
    {
        var path = HostJson.Find(AppContext.BaseDirectory);
        Assert.NotNull(path);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(HostJson.Load(path!)).Build();
        Assert.Null(configuration["AzureFunctionsJobHost:customHandler:description:defaultExecutablePath"]);
        Assert.Equal("", configuration["AzureFunctionsJobHost:extensions:http:routePrefix"]);
        Assert.Equal("base64", configuration["AzureFunctionsJobHost:extensions:queues:messageEncoding"]);
    }

    [Fact]
    public void The_task_hub_comes_from_the_repository_host_json_for_both_hosts()
    {
        var path = HostJson.Find(AppContext.BaseDirectory);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(HostJson.Load(path!))
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ThreePL:Urls"] = "http://127.0.0.1:7075" }).Build();

        var options = DurableHostOptions.FromConfiguration(configuration);

        Assert.Equal("ThreePLHub", options.HubName);
        Assert.Equal(4, options.PartitionCount);
        Assert.Equal(TimeSpan.FromSeconds(2), options.MaxQueuePollingInterval);
        // Stable across restarts of one instance, different for a second instance on another port.
        Assert.Equal($"{Environment.MachineName}-7075", options.WorkerId);
    }

    [Fact]
    public void A_host_json_without_a_task_hub_name_is_refused()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["AzureFunctionsJobHost:version"] = "2.0" }).Build();

        Assert.Throws<InvalidOperationException>(() => DurableHostOptions.FromConfiguration(configuration));
    }

    [Fact]
    public void The_task_hub_storage_needs_the_blob_endpoint_or_the_identity_based_service_uris()
    {
        var identity = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage:blobServiceUri"] = "https://acct.blob.core.windows.net",
            ["AzureWebJobsStorage:queueServiceUri"] = "https://acct.queue.core.windows.net",
            ["AzureWebJobsStorage:tableServiceUri"] = "https://acct.table.core.windows.net",
            ["AzureWebJobsStorage:clientId"] = "00000000-0000-0000-0000-000000000001",
        }).Build();
        var blob = DurableHostOptions.StorageFromConfiguration(identity).Blob;
        Assert.Equal("https://acct.blob.core.windows.net/", blob.CreateClient(blob.CreateOptions()).Uri.ToString());

        var withoutBlob = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage:queueServiceUri"] = "https://acct.queue.core.windows.net",
            ["AzureWebJobsStorage:tableServiceUri"] = "https://acct.table.core.windows.net",
        }).Build();
        Assert.Throws<InvalidOperationException>(() => DurableHostOptions.StorageFromConfiguration(withoutBlob));
    }
}
