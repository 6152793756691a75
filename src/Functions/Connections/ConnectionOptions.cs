namespace ThreePL.Functions.Connections;

public sealed record ConnectionOptions
{
    public TimeSpan InvitationTtl { get; init; } = TimeSpan.FromDays(14);
    public TimeSpan InvitationReminderAfter { get; init; } = TimeSpan.FromDays(3);
    public Uri PublicBaseUrl { get; init; } = new("http://127.0.0.1:7071");

    /// <summary>
    /// How long an invitation or a brand onboarding takes to answer at least, whatever it found: an address with no
    /// account costs more storage work than one with an account (the account is created), and the difference must not
    /// tell the inviter which it was. Well above that work's usual time, so the answer's time is this floor.
    /// </summary>
    public TimeSpan InvitationAnswerFloor { get; init; } = TimeSpan.FromMilliseconds(400);

    public static ConnectionOptions FromConfiguration(IConfiguration configuration)
    {
        var defaults = new ConnectionOptions();
        var options = new ConnectionOptions
        {
            InvitationTtl = configuration.GetValue<TimeSpan?>("ThreePL:InvitationTtl") ?? defaults.InvitationTtl,
            InvitationReminderAfter = configuration.GetValue<TimeSpan?>("ThreePL:InvitationReminderAfter") ?? defaults.InvitationReminderAfter,
            PublicBaseUrl = Uri.TryCreate(configuration["ThreePL:PublicBaseUrl"], UriKind.Absolute, out var url) ? url : defaults.PublicBaseUrl,
            InvitationAnswerFloor = configuration.GetValue<TimeSpan?>("ThreePL:InvitationAnswerFloor") ?? defaults.InvitationAnswerFloor,
        };
        if (options.InvitationTtl <= TimeSpan.Zero || options.InvitationReminderAfter < TimeSpan.Zero)
        {
            throw new InvalidOperationException("ThreePL:InvitationTtl must be positive and ThreePL:InvitationReminderAfter not negative.");
        }
        if (options.InvitationAnswerFloor < TimeSpan.Zero || options.InvitationAnswerFloor > TimeSpan.FromSeconds(10))
        {
            throw new InvalidOperationException("ThreePL:InvitationAnswerFloor must be between 0 and 10 seconds.");
        }
        return options;
    }

    /// <summary>Waits out the rest of <see cref="InvitationAnswerFloor"/> since <paramref name="started"/> (a <see cref="TimeProvider.GetTimestamp"/>).</summary>
    public Task HoldAnswerAsync(TimeProvider time, long started, CancellationToken cancellationToken)
    {
        var left = InvitationAnswerFloor - time.GetElapsedTime(started);
        return left > TimeSpan.Zero ? Task.Delay(left, time, cancellationToken) : Task.CompletedTask;
    }

    public string ConnectLink(string token) => new Uri(PublicBaseUrl, "/connect/" + Uri.EscapeDataString(token)).ToString();
}
