namespace ThreePL.Functions.Connections;

public sealed record ConnectionOptions
{
    public TimeSpan InvitationTtl { get; init; } = TimeSpan.FromDays(14);
    public TimeSpan InvitationReminderAfter { get; init; } = TimeSpan.FromDays(3);
    public Uri PublicBaseUrl { get; init; } = new("http://127.0.0.1:7071");

    public static ConnectionOptions FromConfiguration(IConfiguration configuration)
    {
        var defaults = new ConnectionOptions();
        var options = new ConnectionOptions
        {
            InvitationTtl = configuration.GetValue<TimeSpan?>("ThreePL:InvitationTtl") ?? defaults.InvitationTtl,
            InvitationReminderAfter = configuration.GetValue<TimeSpan?>("ThreePL:InvitationReminderAfter") ?? defaults.InvitationReminderAfter,
            PublicBaseUrl = Uri.TryCreate(configuration["ThreePL:PublicBaseUrl"], UriKind.Absolute, out var url) ? url : defaults.PublicBaseUrl,
        };
        if (options.InvitationTtl <= TimeSpan.Zero || options.InvitationReminderAfter < TimeSpan.Zero)
        {
            throw new InvalidOperationException("ThreePL:InvitationTtl must be positive and ThreePL:InvitationReminderAfter not negative.");
        }
        return options;
    }

    public string ConnectLink(string token) => new Uri(PublicBaseUrl, "/connect/" + Uri.EscapeDataString(token)).ToString();
}
