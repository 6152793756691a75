using Azure.Storage.Queues;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Orders;

/// <summary>Intake backpressure (<c>ThreePL:Orders:*</c>); docs/operations.md, "Backpressure".</summary>
public sealed record IntakeOptions
{
    /// <summary>
    /// Routing requests waiting in the queue above which intake refuses new orders. Azurite's queue operations
    /// slow down with depth and stall once thousands of messages wait; in Azure the bound is about latency
    /// (the backlog divided by the routing rate is how long a new order waits).
    /// </summary>
    public int MaxBacklog { get; init; } = 1000;

    /// <summary>How old a backlog reading may be: at most one count request per instance per interval.</summary>
    public TimeSpan BacklogCheckInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The <c>Retry-After</c> an overloaded intake answers with.</summary>
    public TimeSpan OverloadRetryAfter { get; init; } = TimeSpan.FromSeconds(2);

    public static IntakeOptions FromConfiguration(IConfiguration configuration)
    {
        var section = configuration.GetSection("ThreePL:Orders");
        var defaults = new IntakeOptions();
        var options = new IntakeOptions
        {
            MaxBacklog = section.GetValue<int?>("MaxBacklog") ?? defaults.MaxBacklog,
            BacklogCheckInterval = section.GetValue<TimeSpan?>("BacklogCheckInterval") ?? defaults.BacklogCheckInterval,
            OverloadRetryAfter = section.GetValue<TimeSpan?>("OverloadRetryAfter") ?? defaults.OverloadRetryAfter,
        };
        if (options.MaxBacklog < 1 || options.BacklogCheckInterval < TimeSpan.Zero || options.OverloadRetryAfter <= TimeSpan.Zero)
        {
            throw new InvalidOperationException(
                "ThreePL:Orders:MaxBacklog must be at least 1, BacklogCheckInterval not negative and OverloadRetryAfter positive.");
        }
        return options;
    }
}

/// <summary>
/// Whether the routing queue is backed up beyond <see cref="IntakeOptions.MaxBacklog"/>, from the queue's
/// approximate message count (delayed and in-flight messages included). The reading is shared by every
/// request of this instance and refreshed at most once per <see cref="IntakeOptions.BacklogCheckInterval"/>:
/// while one request refreshes it, the others use the previous reading instead of waiting or asking again, so
/// intake costs no storage operation for this check, whatever the order rate.
/// </summary>
public sealed class IntakeBackpressure(QueueServiceClient queues, StorageNames names, IntakeOptions options, TimeProvider time, ILogger<IntakeBackpressure> logger)
{
    private sealed record Reading(int Count, DateTimeOffset At);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile Reading? _last;

    /// <summary>How long to wait before trying again, or null when intake may proceed.</summary>
    public async ValueTask<TimeSpan?> RetryAfterAsync(CancellationToken cancellationToken)
    {
        var reading = await CurrentAsync(cancellationToken).ConfigureAwait(false);
        return reading.Count > options.MaxBacklog ? options.OverloadRetryAfter : null;
    }

    private async ValueTask<Reading> CurrentAsync(CancellationToken cancellationToken)
    {
        var last = _last;
        if (last is not null && !IsStale(last))
        {
            return last;
        }
        // Only the very first reading is waited for; later, whoever finds the refresh taken keeps the previous one.
        if (last is null)
        {
            await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        else if (!_refresh.Wait(0))
        {
            return last;
        }
        try
        {
            if (_last is { } fresh && !IsStale(fresh))
            {
                return fresh;
            }
            var count = await CountAsync(_last, cancellationToken).ConfigureAwait(false);
            var reading = new Reading(count, time.GetUtcNow());
            _last = reading;
            return reading;
        }
        finally
        {
            _refresh.Release();
        }
    }

    private bool IsStale(Reading reading) => time.GetUtcNow() - reading.At >= options.BacklogCheckInterval;

    /// <summary>
    /// A failed count keeps the previous figure (none: not overloaded) for another interval: backpressure is a
    /// guard, and intake itself reports storage that is really down. A queue not created yet holds nothing.
    /// </summary>
    private async Task<int> CountAsync(Reading? previous, CancellationToken cancellationToken)
    {
        try
        {
            return await queues.GetQueueClient(names.Queue(OrderMessages.RoutingQueue)).ApproximateCountAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when ((TransientFailure.Is(ex) || ex is Azure.RequestFailedException { Status: 404 }) && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Could not read the routing backlog; keeping the previous reading");
            return previous?.Count ?? 0;
        }
    }
}
