using Microsoft.Extensions.Configuration;
using ThreePL.Functions.Hosting;

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
    public void The_repository_host_json_is_a_custom_handler_with_forwarding()
    {
        var path = HostJson.Find(AppContext.BaseDirectory);
        Assert.NotNull(path);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(HostJson.Load(path!)).Build();
        Assert.Equal("true", configuration["AzureFunctionsJobHost:customHandler:enableForwardingHttpRequest"]);
        Assert.Equal("ThreePL.Functions", configuration["AzureFunctionsJobHost:customHandler:description:defaultExecutablePath"]);
        Assert.Equal("", configuration["AzureFunctionsJobHost:extensions:http:routePrefix"]);
    }

    [Theory]
    [InlineData("*/10 * * * * *", 10)]
    [InlineData("0 */5 * * * *", 300)]
    [InlineData("0 0 */2 * * *", 7200)]
    public void Timer_schedules_map_to_periods(string schedule, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), TimerSchedule.Period(schedule));

    [Theory]
    [InlineData("0 30 9 * * *")]
    [InlineData("*/5 * * * *")]
    [InlineData("0 */5 * * * 1-5")]
    [InlineData("*/0 * * * * *")]
    public void Unsupported_timer_schedules_fail_loudly(string schedule) =>
        Assert.Throws<FormatException>(() => TimerSchedule.Period(schedule));
}
