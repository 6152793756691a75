using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using ThreePL.Domain.Common;

namespace ThreePL.Functions.Connections;

/// <summary>
/// The token in a connect link: <c>{connectionId}.{HMAC-SHA256(signing key, purpose | connection id)}</c>, of one of
/// two kinds. The <see cref="LinkKind.Mailed"/> link only ever travels by e-mail to the invitee's address, so opening
/// it proves control of that address: it approves, and activates an account not yet activated. The
/// <see cref="LinkKind.Shared"/> link is the one brand onboarding hands the 3PL to pass on; the 3PL has seen it, so it
/// only shows the invitation and has the mailed link sent to the brand. Links are derived again from the signing key
/// wherever they must be shown, so no raw token rests in a table or a queue; the mailed one's SHA-256 is stored too.
/// A token acts only on a pending connection (or an account not yet activated), which makes it single-use.
/// </summary>
public sealed class ConnectTokens(byte[] signingKey)
{
    public static ConnectTokens FromConfiguration(IConfiguration configuration) =>
        new(SHA256.HashData(Encoding.UTF8.GetBytes(SigningKey(configuration))));

    /// <summary><c>ThreePL:SigningKey</c>, which must be at least 32 characters.</summary>
    public static string SigningKey(IConfiguration configuration)
    {
        var key = configuration["ThreePL:SigningKey"];
        return string.IsNullOrEmpty(key) || key.Length < 32
            ? throw new InvalidOperationException("ThreePL:SigningKey must be set to at least 32 characters (it signs the e-mail approval links).")
            : key;
    }

    /// <summary>The link that goes only to the invitee's address.</summary>
    public string Create(ConnectionId connection) => Token(connection, "connect|");

    /// <summary>The link a 3PL shares with a brand it onboarded: it can never complete anything.</summary>
    public string CreateShared(ConnectionId connection) => Token(connection, "share|");

    /// <summary>Which link <paramref name="token"/> is for <paramref name="connection"/>, or null when it is neither.</summary>
    public LinkKind? KindOf(string token, ConnectionId connection)
    {
        var given = Encoding.UTF8.GetBytes(token);
        return CryptographicOperations.FixedTimeEquals(given, Encoding.UTF8.GetBytes(Create(connection))) ? LinkKind.Mailed
            : CryptographicOperations.FixedTimeEquals(given, Encoding.UTF8.GetBytes(CreateShared(connection))) ? LinkKind.Shared
            : null;
    }

    private string Token(ConnectionId connection, string purpose)
    {
        var mac = HMACSHA256.HashData(signingKey, Encoding.UTF8.GetBytes(purpose + connection.Value));
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

public enum LinkKind
{
    /// <summary>Sent only to the invitee's e-mail address: proof of control of it.</summary>
    Mailed,

    /// <summary>Handed to the 3PL to share: shows the invitation, proves nothing.</summary>
    Shared,
}
