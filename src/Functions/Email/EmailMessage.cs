namespace ThreePL.Functions.Email;

/// <summary>
/// One e-mail. <see cref="Id"/> is stable across retries of the message that caused it, so senders can
/// make a retried send harmless.
/// </summary>
public sealed record EmailMessage(string Id, string To, string Subject, string TextBody, string HtmlBody);

public interface IEmailSender
{
    Task SendAsync(EmailMessage message, CancellationToken cancellationToken);
}

public sealed record EmailOptions
{
    public string From { get; init; } = "ThreePL Connect <no-reply@threepl.local>";
    public string PickupDirectory { get; init; } = ".data/mail";
    public string? SmtpHost { get; init; }
    public int SmtpPort { get; init; } = 587;
    public string? SmtpUserName { get; init; }
    public string? SmtpPassword { get; init; }
    public bool SmtpEnableSsl { get; init; } = true;

    public static EmailOptions FromConfiguration(IConfiguration configuration)
    {
        var section = configuration.GetSection("ThreePL:Email");
        var defaults = new EmailOptions();
        return new EmailOptions
        {
            From = section["From"] ?? defaults.From,
            PickupDirectory = section["PickupDirectory"] ?? defaults.PickupDirectory,
            SmtpHost = section["Smtp:Host"],
            SmtpPort = section.GetValue<int?>("Smtp:Port") ?? defaults.SmtpPort,
            SmtpUserName = section["Smtp:UserName"],
            SmtpPassword = section["Smtp:Password"],
            SmtpEnableSsl = section.GetValue<bool?>("Smtp:EnableSsl") ?? defaults.SmtpEnableSsl,
        };
    }
}
