using Microsoft.Azure.Functions.Worker;
using NCrontab;

namespace ThreePL.LocalHost;

/// <summary>
/// The development host's timer trigger: one loop per <c>timerTrigger</c> function of <c>functions.metadata</c>,
/// firing on its NCRONTAB <c>schedule</c> (six fields with seconds, as the Functions host reads it, or five; a
/// <c>%setting%</c> resolves from configuration) in UTC, the Functions host's default time zone, and once at start
/// when <c>runOnStartup</c> is set. A function that throws is logged and fires again at its next occurrence, as
/// under the Functions host. Time comes from <see cref="TimeProvider"/>, so tests drive it without waiting.
/// </summary>
public sealed class TimerPump(
    IReadOnlyList<FunctionInvoker> functions,
    IConfiguration configuration,
    TimeProvider time,
    IServiceScopeFactory scopes,
    ILogger<TimerPump> logger) : BackgroundService
{
    /// <summary>The schedule of a <c>timerTrigger</c> binding; fails at start-up on one the host would refuse.</summary>
    public static CrontabSchedule Schedule(BindingMetadata trigger, IConfiguration configuration)
    {
        var expression = QueuePump.Resolve(trigger.Schedule ?? throw new InvalidOperationException($"Timer trigger '{trigger.Name}' has no schedule."), configuration);
        var fields = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        return CrontabSchedule.TryParse(expression, new CrontabSchedule.ParseOptions { IncludingSeconds = fields == 6 })
            ?? throw new InvalidOperationException($"'{expression}' is not an NCRONTAB schedule (six fields with seconds, or five).");
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var schedules = functions.Select(f => (Function: f, Schedule: Schedule(f.Metadata.Trigger, configuration))).ToList();
        return Task.WhenAll(schedules.Select(s => RunAsync(s.Function, s.Schedule, stoppingToken)));
    }

    private async Task RunAsync(FunctionInvoker function, CrontabSchedule schedule, CancellationToken stoppingToken)
    {
        DateTime? last = null;
        if (RunOnStartup(function.Metadata.Trigger))
        {
            last = await FireAsync(function, schedule, last, time.GetUtcNow().UtcDateTime, stoppingToken).ConfigureAwait(false);
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow().UtcDateTime;
            var next = schedule.GetNextOccurrence(now);
            try
            {
                await Task.Delay(next - now, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            last = await FireAsync(function, schedule, last, next, stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task<DateTime> FireAsync(FunctionInvoker function, CrontabSchedule schedule, DateTime? last, DateTime occurrence, CancellationToken stoppingToken)
    {
        var timer = new TimerInfo
        {
            ScheduleStatus = new ScheduleStatus { Last = last ?? DateTime.MinValue, Next = schedule.GetNextOccurrence(occurrence), LastUpdated = occurrence },
            IsPastDue = false,
        };
        try
        {
            await using var services = scopes.CreateAsyncScope();
            await function.InvokeAsync(services.ServiceProvider, new InvocationInput(null, null, stoppingToken) { Timer = timer }).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            logger.LogError(ex, "Timer function {Function} failed at {Occurrence:o}; it runs again at its next occurrence.", function.Metadata.Name, occurrence);
        }
        return occurrence;
    }

    private static bool RunOnStartup(BindingMetadata trigger) =>
        trigger.Other?.TryGetValue("runOnStartup", out var value) == true && value.ValueKind == System.Text.Json.JsonValueKind.True;
}
