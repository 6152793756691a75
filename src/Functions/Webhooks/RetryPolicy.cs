namespace ThreePL.Functions.Webhooks;

/// <summary>
/// When a failed attempt is tried again, and when a destination has failed for long enough to be disabled: svix's
/// policy, with the schedule, jitter and bounds from <see cref="WebhookOptions"/>. Pure: the caller passes the time
/// and the random draw, so tests pin both.
/// </summary>
public sealed class RetryPolicy(WebhookOptions options)
{
    /// <summary>
    /// The delay before the next attempt after failed attempt <paramref name="withinRound"/> of the current round
    /// (1-based), or null when the schedule is exhausted and the delivery is dead. The scheduled delay gets ±jitter
    /// (<paramref name="draw"/> in [0, 1)); a receiver's <c>Retry-After</c> can only lengthen it, up to the cap.
    /// </summary>
    public TimeSpan? NextDelay(int withinRound, TimeSpan? retryAfter, double draw)
    {
        if (withinRound < 1 || withinRound > options.RetrySchedule.Count)
        {
            return null;
        }
        var factor = 1 + ((draw * 2) - 1) * options.Jitter;
        var delay = TimeSpan.FromTicks((long)(options.RetrySchedule[withinRound - 1].Ticks * factor));
        if (retryAfter is { } asked && asked > delay)
        {
            delay = asked < options.MaxRetryAfter ? asked : options.MaxRetryAfter;
        }
        return delay;
    }

    /// <summary>
    /// Why the destination must be disabled after this failure, or null: a 410 Gone says so at once; otherwise only
    /// continuous failure for <see cref="WebhookOptions.DisableAfter"/> does, since one success resets the clock.
    /// </summary>
    public string? DisableReason(int? statusCode, DateTimeOffset failingSince, DateTimeOffset now) =>
        statusCode == StatusCodes.Status410Gone ? "The endpoint answered 410 Gone."
        : now - failingSince >= options.DisableAfter ? $"Every attempt has failed since {failingSince:O}."
        : null;
}
