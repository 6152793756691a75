using System.Security.Cryptography;
using System.Text;

namespace ThreePL.Functions.Tests.Webhooks;

/// <summary>
/// An implementation of the Standard Webhooks verification written from the specification, independent
/// of the app's signer; docs/webhooks.md shows the same code for 3PLs to copy.
/// </summary>
public static class StandardWebhooksVerifier
{
    public static bool Verify(string secret, string msgId, string timestamp, string body, string signatureHeader, DateTimeOffset now, TimeSpan? tolerance = null)
    {
        if (!long.TryParse(timestamp, out var seconds)
            || Math.Abs(now.ToUnixTimeSeconds() - seconds) > (tolerance ?? TimeSpan.FromMinutes(5)).TotalSeconds)
        {
            return false;
        }
        var key = Convert.FromBase64String(secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret["whsec_".Length..] : secret);
        using var hmac = new HMACSHA256(key);
        var expected = hmac.ComputeHash(Encoding.UTF8.GetBytes(msgId + "." + timestamp + "." + body));
        foreach (var part in signatureHeader.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var comma = part.IndexOf(',', StringComparison.Ordinal);
            if (comma < 0 || part[..comma] != "v1")
            {
                continue;
            }
            byte[] given;
            try
            {
                given = Convert.FromBase64String(part[(comma + 1)..]);
            }
            catch (FormatException)
            {
                continue;
            }
            if (CryptographicOperations.FixedTimeEquals(given, expected))
            {
                return true;
            }
        }
        return false;
    }
}
