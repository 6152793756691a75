using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using ThreePL.Domain.Common;

namespace ThreePL.Functions.ApiKeys;

/// <summary>
/// The bearer token format <c>tpl_{accountId}.{keyId}.{secret}</c>. The ids let us find the stored hash with
/// one point read; only the secret part is secret.
/// </summary>
public static class ApiKeySecret
{
    private const string Prefix = "tpl_";

    public static (string Token, byte[] Hash) Create(AccountId account, ApiKeyId key)
    {
        var secret = NewSecret();
        return ($"{Prefix}{account.Value}.{key.Value}.{secret}", Hash(secret));
    }

    public static bool TryParse(string token, out AccountId account, out ApiKeyId key, out string secret)
    {
        account = default;
        key = default;
        secret = "";
        if (!token.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }
        var parts = token[Prefix.Length..].Split('.');
        if (parts.Length != 3 || parts[2].Length is < 16 or > 128
            || !AccountId.TryParse(parts[0], out account) || !ApiKeyId.TryParse(parts[1], out key))
        {
            return false;
        }
        secret = parts[2];
        return true;
    }

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    public static bool Matches(string secret, byte[] storedHash) =>
        CryptographicOperations.FixedTimeEquals(Hash(secret), storedHash);

    /// <summary>256 random bits, URL-safe: the secret part of every bearer token we issue.</summary>
    public static string NewSecret() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
}
