using System.Globalization;

namespace ThreePL.Functions.Webhooks;

/// <summary>
/// Delivery policy, as svix keeps it in configuration (<c>ThreePL:Webhooks:*</c>). Tests shrink the schedule
/// here instead of sleeping for real.
/// </summary>
public sealed record WebhookOptions
{
    /// <summary>Delays before the 2nd, 3rd, … attempt. After the last one fails, the delivery is dead.</summary>
    public IReadOnlyList<TimeSpan> RetrySchedule { get; init; } =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2),
        TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(10),
    ];

    /// <summary>
    /// A destination that has failed every attempt for this long is disabled: continuous failure, not a bad
    /// afternoon, since one success resets the clock.
    /// </summary>
    public TimeSpan DisableAfter { get; init; } = TimeSpan.FromDays(5);

    /// <summary>Per request, connect to last byte. Receivers should answer fast and work asynchronously.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Jitter of ±this fraction on every scheduled delay, so failed deliveries do not retry in lockstep.</summary>
    public double Jitter { get; init; } = 0.2;

    /// <summary>The longest <c>Retry-After</c> we honour; a receiver cannot park a delivery for longer.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromHours(10);

    /// <summary>How much of a receiver's answer the attempt log keeps.</summary>
    public const int ResponseBytesKept = 1024;

    public static WebhookOptions FromConfiguration(IConfiguration configuration)
    {
        var section = configuration.GetSection("ThreePL:Webhooks");
        var defaults = new WebhookOptions();
        var schedule = section["RetrySchedule"] is { Length: > 0 } text
            ? text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => TimeSpan.Parse(s, CultureInfo.InvariantCulture)).ToList()
            : defaults.RetrySchedule;
        if (schedule.Any(s => s < TimeSpan.Zero || s > TimeSpan.FromDays(7)))
        {
            throw new InvalidOperationException("ThreePL:Webhooks:RetrySchedule delays must be between 0 and 7 days (the longest queue delay).");
        }
        return new WebhookOptions
        {
            RetrySchedule = schedule,
            DisableAfter = section.GetValue<TimeSpan?>("DisableAfter") ?? defaults.DisableAfter,
            Timeout = section.GetValue<TimeSpan?>("Timeout") ?? defaults.Timeout,
            Jitter = section.GetValue<double?>("Jitter") ?? defaults.Jitter,
            MaxRetryAfter = section.GetValue<TimeSpan?>("MaxRetryAfter") ?? defaults.MaxRetryAfter,
        };
    }
}
