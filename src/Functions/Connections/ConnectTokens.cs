using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using ThreePL.Domain.Common;

namespace ThreePL.Functions.Connections;

/// <summary>
/// The token in an approval or login link: <c>{connectionId}.{HMAC-SHA256(signing key, connection id)}</c>.
/// Only its SHA-256 is stored; the link is derived again from the signing key wherever it must be shown
/// (the e-mail, the onboarding answer), so the raw token never rests in a table or a queue. It is single-use
/// because it only acts on a pending connection (or a brand account not yet activated).
/// </summary>
public sealed class ConnectTokens(byte[] signingKey)
{
    public static ConnectTokens FromConfiguration(IConfiguration configuration)
    {
        var key = configuration["ThreePL:SigningKey"];
        if (string.IsNullOrEmpty(key) || key.Length < 32)
        {
            throw new InvalidOperationException("ThreePL:SigningKey must be set to at least 32 characters (it signs the e-mail approval links).");
        }
        return new ConnectTokens(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }

    public string Create(ConnectionId connection)
    {
        var mac = HMACSHA256.HashData(signingKey, Encoding.UTF8.GetBytes("connect|" + connection.Value));
        return connection.Value + "." + Base64Url.EncodeToString(mac);
    }

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>Finds the connection a token names; the caller still compares <see cref="Hash"/> with the stored hash.</summary>
    public static bool TryParse(string? token, out ConnectionId connection)
    {
        connection = default;
        var dot = token?.IndexOf('.', StringComparison.Ordinal) ?? -1;
        return token is { Length: < 200 } && dot > 0 && ConnectionId.TryParse(token[..dot], out connection);
    }

    public static bool Matches(string token, byte[] storedHash) =>
        storedHash.Length > 0 && CryptographicOperations.FixedTimeEquals(Hash(token), storedHash);
}
