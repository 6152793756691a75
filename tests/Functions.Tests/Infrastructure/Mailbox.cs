using System.Text;
using System.Text.RegularExpressions;

namespace ThreePL.Functions.Tests.Infrastructure;

public sealed record ReceivedMail(string File, string To, string Subject, string Text, string Html)
{
    public string ConnectLink => Regex.Match(Text, @"https?://\S+/connect/\S+").Value;

    public string ConnectToken => Uri.UnescapeDataString(ConnectLink[(ConnectLink.LastIndexOf('/') + 1)..]);
}

/// <summary>Reads the .eml files the pickup-folder sender writes.</summary>
public static partial class Mailbox
{
    public static IReadOnlyList<ReceivedMail> All(TestApp app) =>
        Directory.Exists(app.MailDirectory)
            ? Directory.GetFiles(app.MailDirectory, "*.eml").Select(Read).ToList()
            : [];

    public static Task<ReceivedMail> WaitForAsync(TestApp app, string to, Func<ReceivedMail, bool>? where = null) =>
        Eventually.Get(() => Task.FromResult(All(app).FirstOrDefault(m => m.To == to && (where?.Invoke(m) ?? true))), $"an e-mail to {to}");

    public static ReceivedMail Read(string file)
    {
        var raw = File.ReadAllText(file);
        var to = Regex.Match(raw, "^To: (.*)$", RegexOptions.Multiline).Groups[1].Value.Trim();
        var subject = Encoding.UTF8.GetString(Convert.FromBase64String(SubjectPattern().Match(raw).Groups[1].Value));
        var parts = PartPattern().Matches(raw);
        string Body(string type) => Encoding.UTF8.GetString(Convert.FromBase64String(
            parts.First(p => p.Groups[1].Value == type).Groups[2].Value.Replace("\r\n", "", StringComparison.Ordinal)));
        return new ReceivedMail(file, to, subject, Body("text/plain"), Body("text/html"));
    }

    [GeneratedRegex(@"Subject: =\?utf-8\?B\?([^?]*)\?=")]
    private static partial Regex SubjectPattern();

    [GeneratedRegex(@"Content-Type: (text/\w+); charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n([A-Za-z0-9+/=\r\n]+?)\r\n--")]
    private static partial Regex PartPattern();
}
