namespace ThreePL.Functions.Hosting;

/// <summary>
/// The standalone stand-in for timer triggers: runs each timer function once per period of its schedule.
/// A failed run is logged and retried at the next tick, as the Functions host does. Timer functions that
/// must not overlap across instances take a lease row themselves; this class guarantees nothing beyond
/// "no two runs of one function at once in this process".
/// </summary>
public sealed class TimerScheduler(
    IEnumerable<ITimerFunction> functions,
    IConfiguration configuration,
    TimeProvider time,
    ILogger<TimerScheduler> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(functions.Select(f => RunEveryAsync(f, Period(f), stoppingToken)));

    /// <summary>
    /// <c>ThreePL:Timers:{Name}:Period</c> overrides the schedule locally, so tests and demos need not wait
    /// for a sweeper that runs every few minutes in Azure.
    /// </summary>
    private TimeSpan Period(ITimerFunction function) =>
        configuration.GetValue<TimeSpan?>($"ThreePL:Timers:{function.Name}:Period") ?? TimerSchedule.Period(function.Schedule);

    private async Task RunEveryAsync(ITimerFunction function, TimeSpan period, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(period, time);
        try
        {
            do
            {
                try
                {
                    await function.RunAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    logger.LogError(ex, "Timer function {Function} failed; it runs again in {Period}", function.Name, period);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
