using System.Globalization;

namespace ThreePL.LocalHost;

/// <summary>
/// The queue-trigger settings of <c>host.json</c> (<c>extensions.queues</c>), with the Functions defaults,
/// so the development host's queue pump behaves as the Functions host does in Azure.
/// </summary>
public sealed record QueueHostOptions
{
    public int BatchSize { get; init; } = 16;
    public int NewBatchThreshold { get; init; } = 8;
    public int MaxDequeueCount { get; init; } = 5;
    public TimeSpan VisibilityTimeout { get; init; } = TimeSpan.Zero;
    public TimeSpan MaxPollingInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a received message stays invisible while its function runs (the host's 10 minutes).</summary>
    public TimeSpan MessageLease { get; init; } = TimeSpan.FromMinutes(10);

    public static QueueHostOptions FromConfiguration(IConfiguration configuration)
    {
        var section = configuration.GetSection($"{HostJson.Section}:extensions:queues");
        var defaults = new QueueHostOptions();
        var batchSize = Int(section["batchSize"], defaults.BatchSize, 1, 32);
        return new QueueHostOptions
        {
            BatchSize = batchSize,
            NewBatchThreshold = Int(section["newBatchThreshold"], batchSize / 2, 0, 1000),
            MaxDequeueCount = Int(section["maxDequeueCount"], defaults.MaxDequeueCount, 1, 1000),
            VisibilityTimeout = Span(section["visibilityTimeout"], defaults.VisibilityTimeout),
            MaxPollingInterval = Span(section["maxPollingInterval"], defaults.MaxPollingInterval),
            MessageLease = Span(section["messageLease"], defaults.MessageLease),
        };
    }

    private static int Int(string? value, int fallback, int min, int max)
    {
        if (value is null)
        {
            return fallback;
        }
        var parsed = int.Parse(value, CultureInfo.InvariantCulture);
        return parsed < min || parsed > max
            ? throw new InvalidOperationException($"Queue setting {value} is outside {min}..{max}.")
            : parsed;
    }

    private static TimeSpan Span(string? value, TimeSpan fallback) =>
        value is null ? fallback : TimeSpan.Parse(value, CultureInfo.InvariantCulture);
}
