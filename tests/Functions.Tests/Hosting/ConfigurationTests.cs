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
}
