using System.Globalization;
using System.Text;

namespace ThreePL.Functions.Email;

/// <summary>
/// Writes each message as <c>{id}.eml</c> into a folder (the local default: open the files with any mail
/// client). The file name is the message id and the file appears atomically, so a retried send replaces
/// the same file instead of adding a second one.
/// </summary>
public sealed class PickupDirectoryEmailSender(EmailOptions options, TimeProvider time) : IEmailSender
{
    public async Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        var directory = Path.GetFullPath(options.PickupDirectory);
        Directory.CreateDirectory(directory);
        var safeId = string.Concat(message.Id.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_'));
        var temporary = Path.Combine(directory, $".{safeId}.{Guid.NewGuid():N}.tmp");
        await File.WriteAllTextAsync(temporary, Render(message, options.From, time.GetUtcNow()), Encoding.ASCII, cancellationToken).ConfigureAwait(false);
        File.Move(temporary, Path.Combine(directory, safeId + ".eml"), overwrite: true);
    }

    /// <summary>A MIME multipart/alternative message; bodies are base64 so any UTF-8 text survives.</summary>
    public static string Render(EmailMessage message, string from, DateTimeOffset date)
    {
        var boundary = "alt_" + Guid.NewGuid().ToString("N");
        var builder = new StringBuilder();
        builder.Append("From: ").Append(from).Append("\r\n");
        builder.Append("To: ").Append(message.To).Append("\r\n");
        builder.Append("Subject: =?utf-8?B?").Append(Convert.ToBase64String(Encoding.UTF8.GetBytes(message.Subject))).Append("?=\r\n");
        builder.Append("Date: ").Append(date.ToString("ddd, dd MMM yyyy HH:mm:ss +0000", CultureInfo.InvariantCulture)).Append("\r\n");
        builder.Append("Message-ID: <").Append(message.Id).Append("@threepl.local>\r\n");
        builder.Append("X-ThreePL-Message-Id: ").Append(message.Id).Append("\r\n");
        builder.Append("MIME-Version: 1.0\r\n");
        builder.Append("Content-Type: multipart/alternative; boundary=\"").Append(boundary).Append("\"\r\n\r\n");
        AppendPart(builder, boundary, "text/plain", message.TextBody);
        AppendPart(builder, boundary, "text/html", message.HtmlBody);
        builder.Append("--").Append(boundary).Append("--\r\n");
        return builder.ToString();
    }

    private static void AppendPart(StringBuilder builder, string boundary, string contentType, string body)
    {
        builder.Append("--").Append(boundary).Append("\r\n");
        builder.Append("Content-Type: ").Append(contentType).Append("; charset=utf-8\r\n");
        builder.Append("Content-Transfer-Encoding: base64\r\n\r\n");
        builder.Append(Convert.ToBase64String(Encoding.UTF8.GetBytes(body), Base64FormattingOptions.InsertLineBreaks)).Append("\r\n");
    }
}
