using System.Collections.Concurrent;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ThreePL.Functions.Tests.Infrastructure;
using ThreePL.LocalHost;

namespace ThreePL.Functions.Tests.Hosting;

/// <summary>
/// The development host's timer trigger and its own FunctionContext, driven by synthetic <c>functions.metadata</c>
/// entries for a function of this test assembly (the app itself has no timer).
/// </summary>
[Collection("azurite")]
public sealed class DevelopmentHostTimerTests(AzuriteFixture azurite)
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 10, 0, 3, TimeSpan.Zero);

    [Fact]
    public async Task A_timer_fires_on_its_ncrontab_schedule_with_its_own_function_context()
    {
        var time = new FakeTimeProvider(Start);
        var probe = new TimerProbe.Recorder();
        await using var services = new ServiceCollection().AddSingleton(probe).BuildServiceProvider();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Probe:Schedule"] = "*/10 * * * * *" }).Build();
        using var pump = new TimerPump(
            [new FunctionInvoker(TimerProbe.Metadata("%Probe:Schedule%"))], configuration, time, services.GetRequiredService<IServiceScopeFactory>(), NullLogger<TimerPump>.Instance);
        await pump.StartAsync(CancellationToken.None);

        await AdvanceUntil(time, () => probe.Fired.Count >= 2);
        await pump.StopAsync(CancellationToken.None);

        var fired = probe.Fired.ToArray();
        // 10:00:03 → the occurrences at :10 and :20 (six fields: seconds first, as the Functions host reads NCRONTAB).
        Assert.Equal(new DateTime(2026, 12, 6, 10, 0, 10, DateTimeKind.Utc), fired[0].Timer.ScheduleStatus!.LastUpdated);
        Assert.Equal(new DateTime(2026, 12, 6, 10, 0, 20, DateTimeKind.Utc), fired[0].Timer.ScheduleStatus!.Next);
        Assert.Equal(DateTime.MinValue, fired[0].Timer.ScheduleStatus!.Last);
        Assert.Equal(fired[0].Timer.ScheduleStatus!.LastUpdated, fired[1].Timer.ScheduleStatus!.Last);
        Assert.Equal(new DateTime(2026, 12, 6, 10, 0, 20, DateTimeKind.Utc), fired[1].Timer.ScheduleStatus!.LastUpdated);
        Assert.All(fired, f => Assert.Equal(TimerProbe.Name, f.FunctionId));
        Assert.All(fired, f => Assert.True(f.ResolvedService && f.ItemsAndFeaturesWork && f.CanCancel));
        Assert.NotEqual(fired[0].InvocationId, fired[1].InvocationId);
    }

    [Fact]
    public async Task A_failing_timer_fires_again_at_its_next_occurrence_and_run_on_startup_fires_at_once()
    {
        var time = new FakeTimeProvider(Start);
        var probe = new TimerProbe.Recorder { FailFirst = true };
        await using var services = new ServiceCollection().AddSingleton(probe).BuildServiceProvider();
        using var pump = new TimerPump(
            [new FunctionInvoker(TimerProbe.Metadata("0 * * * * *", runOnStartup: true))], new ConfigurationBuilder().Build(), time,
            services.GetRequiredService<IServiceScopeFactory>(), NullLogger<TimerPump>.Instance);
        await pump.StartAsync(CancellationToken.None);

        await AdvanceUntil(time, () => probe.Fired.Count >= 2);
        await pump.StopAsync(CancellationToken.None);

        var fired = probe.Fired.ToArray();
        // At start-up, not at an occurrence of the schedule (the pump starts on its own thread, so "now" may have moved).
        Assert.InRange(fired[0].Timer.ScheduleStatus!.LastUpdated, Start.UtcDateTime, new DateTime(2026, 12, 6, 10, 0, 59, DateTimeKind.Utc));
        Assert.Equal(new DateTime(2026, 12, 6, 10, 1, 0, DateTimeKind.Utc), fired[1].Timer.ScheduleStatus!.LastUpdated);
    }

    [Theory]
    [InlineData("not a schedule")]
    [InlineData("%Missing:Setting%")]
    [InlineData("* * * * * * *")]
    public void A_schedule_the_host_would_refuse_stops_the_development_host_at_start_up(string schedule)
    {
        var failure = Assert.Throws<InvalidOperationException>(() => DevelopmentHost.Build(Arguments(), [TimerProbe.Metadata(schedule)]));
        Assert.Contains(schedule.Trim('%'), failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_development_host_takes_a_timer_function_of_its_metadata()
    {
        var app = DevelopmentHost.Build([.. Arguments(), "--ThreePL:Urls=http://127.0.0.1:0"], [TimerProbe.Metadata("* * * * * *")]);
        await using (app.ConfigureAwait(false))
        {
            Assert.Contains(app.Services.GetServices<IHostedService>(), s => s is TimerPump);
        }
    }

    private string[] Arguments() =>
    [
        "--AzureWebJobsStorage=" + azurite.ConnectionString,
        "--ThreePL:Storage:Prefix=" + TestApp.NewPrefix(),
        "--ThreePL:AdminKey=" + TestApp.AdminKey,
        "--ThreePL:SigningKey=test-signing-key-0123456789abcdef0123456789",
    ];

    private static async Task AdvanceUntil(FakeTimeProvider time, Func<bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, "The timer did not fire.");
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(5);
        }
    }
}

/// <summary>A timer function of the test assembly, as the Worker SDK would list it.</summary>
public sealed class TimerProbe(TimerProbe.Recorder recorder)
{
    public const string Name = "TimerProbe";

    public static ThreePL.LocalHost.FunctionMetadata Metadata(string schedule, bool runOnStartup = false) => new(
        Name,
        typeof(TimerProbe).Assembly.GetName().Name + ".dll",
        typeof(TimerProbe).FullName + "." + nameof(Run),
        [new ThreePL.LocalHost.BindingMetadata("timer", "timerTrigger", "In", null, null, null, null, schedule)
        {
            Other = runOnStartup ? new() { ["runOnStartup"] = System.Text.Json.JsonSerializer.SerializeToElement(true) } : null,
        }]);

    [Function(Name)]
    public void Run([TimerTrigger("%Probe:Schedule%")] TimerInfo timer, FunctionContext context)
    {
        context.Items["seen"] = true;
        context.Features.Set(recorder);
        var fired = new Fired(
            timer,
            context.InvocationId,
            context.FunctionId,
            context.InstanceServices.GetService<Recorder>() == recorder,
            context.Items.ContainsKey("seen") && context.Features.Get<Recorder>() == recorder,
            context.CancellationToken.CanBeCanceled);
        recorder.Fired.Enqueue(fired);
        if (recorder.FailFirst && recorder.Fired.Count == 1)
        {
            throw new InvalidOperationException("The first run fails.");
        }
    }

    public sealed record Fired(TimerInfo Timer, string InvocationId, string FunctionId, bool ResolvedService, bool ItemsAndFeaturesWork, bool CanCancel);

    public sealed class Recorder
    {
        public ConcurrentQueue<Fired> Fired { get; } = new();

        public bool FailFirst { get; init; }
    }
}
