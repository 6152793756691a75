using System.Net;
using System.Net.Mail;
using System.Net.Mime;
using System.Text;

namespace ThreePL.Functions.Email;

/// <summary>
/// Sends through any SMTP relay (Azure Communication Services SMTP, a company relay, a local catcher). A
/// failure throws, so the queue message that asked for the e-mail is retried and finally poisoned.
/// </summary>
public sealed class SmtpEmailSender(EmailOptions options) : IEmailSender
{
    public async Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        using var mail = new MailMessage(new MailAddress(options.From), new MailAddress(message.To))
        {
            Subject = message.Subject,
            SubjectEncoding = Encoding.UTF8,
            Body = message.TextBody,
            BodyEncoding = Encoding.UTF8,
        };
        mail.Headers.Add("X-ThreePL-Message-Id", message.Id);
        mail.AlternateViews.Add(AlternateView.CreateAlternateViewFromString(message.HtmlBody, Encoding.UTF8, MediaTypeNames.Text.Html));
        using var client = new SmtpClient(options.SmtpHost, options.SmtpPort)
        {
            EnableSsl = options.SmtpEnableSsl,
            DeliveryMethod = SmtpDeliveryMethod.Network,
            Timeout = 30_000,
        };
        if (!string.IsNullOrEmpty(options.SmtpUserName))
        {
            client.Credentials = new NetworkCredential(options.SmtpUserName, options.SmtpPassword);
        }
        await client.SendMailAsync(mail, cancellationToken).ConfigureAwait(false);
    }
}
