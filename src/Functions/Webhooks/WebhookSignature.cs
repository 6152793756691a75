using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Webhooks;

/// <summary>
/// Standard Webhooks signing: <c>v1,</c> + base64 HMAC-SHA256 over <c>{webhook-id}.{webhook-timestamp}.{body}</c>
/// with the secret's key bytes. During a secret rotation every valid secret signs, space-separated, so the
/// receiver accepts whichever one it has.
/// </summary>
public static class WebhookSignature
{
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";

    public static string Sign(string messageId, long timestamp, string body, IEnumerable<string> secrets) =>
        string.Join(' ', secrets.Select(s => "v1," + Compute(messageId, timestamp, body, WebhookSecret.KeyBytes(s))));

    public static string Compute(string messageId, long timestamp, string body, byte[] key)
    {
        var content = Encoding.UTF8.GetBytes($"{messageId}.{timestamp.ToString(CultureInfo.InvariantCulture)}.{body}");
        return Convert.ToBase64String(HMACSHA256.HashData(key, content));
    }
}
