using System.Net;
using System.Net.Sockets;

namespace ThreePL.Functions.Infrastructure;

/// <summary>
/// Where webhooks may go (SSRF guard): absolute <c>https</c> URLs whose host resolves only to public
/// addresses. With <c>ThreePL:AllowInsecureWebhooks</c> (development), plain <c>http</c> to a loopback
/// address is allowed too, so a receiver on the developer's machine works. Checked when a URL is saved and
/// again before every delivery, because DNS can change in between.
/// </summary>
public sealed class WebhookUrlPolicy(bool allowInsecureLoopback, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null)
{
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve = resolve ?? Dns.GetHostAddressesAsync;

    /// <summary>Development only: plain http to loopback receivers is allowed.</summary>
    public bool AllowInsecureLoopback => allowInsecureLoopback;

    public static WebhookUrlPolicy FromConfiguration(IConfiguration configuration) =>
        new(configuration.GetValue<bool?>("ThreePL:AllowInsecureWebhooks") ?? false);

    /// <summary>Null when <paramref name="url"/> is an allowed destination, else why not.</summary>
    public async Task<string?> CheckAsync(Uri url, CancellationToken cancellationToken)
    {
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            return "Must be an absolute https URL.";
        }
        if (!string.IsNullOrEmpty(url.UserInfo))
        {
            return "Must not contain credentials.";
        }
        IPAddress[] addresses;
        if (IPAddress.TryParse(url.DnsSafeHost, out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await _resolve(url.DnsSafeHost, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                return "The host name does not resolve.";
            }
            if (addresses.Length == 0)
            {
                return "The host name does not resolve.";
            }
        }
        var allLoopback = addresses.All(IPAddress.IsLoopback);
        if (url.Scheme == Uri.UriSchemeHttp && !(allowInsecureLoopback && allLoopback))
        {
            return "Must use https.";
        }
        if (allowInsecureLoopback && allLoopback)
        {
            return null;
        }
        return addresses.Any(a => !IsPublic(a)) ? "Must resolve to public addresses only." : null;
    }

    /// <summary>
    /// True when <paramref name="address"/> is a public unicast address. An IPv6 address that embeds an IPv4 address
    /// is judged by what it embeds, whatever its spelling, since that is where the packets end up.
    /// </summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return IsPublicIPv4(address.GetAddressBytes());
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return false;
        }
        var b = address.GetAddressBytes();
        if (EmbeddedIPv4(b) is { } embedded)
        {
            return embedded.All(IsPublicIPv4);
        }
        return !(IPAddress.IsLoopback(address) || address.Equals(IPAddress.IPv6None) || address.IsIPv6LinkLocal
            || address.IsIPv6SiteLocal || address.IsIPv6Multicast
            || (b[0] & 0xfe) == 0xfc
            || (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
            // 64:ff9b:1::/48 is local-use NAT64 (RFC 8215): where it embeds the IPv4 address is the operator's choice.
            || (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0x00 && b[5] == 0x01));
    }

    /// <summary>
    /// The IPv4 addresses an IPv6 address carries: IPv4-mapped (<c>::ffff:0:0/96</c>), IPv4-translated
    /// (<c>::ffff:0:0:0/96</c>), IPv4-compatible (<c>::/96</c>), NAT64 (<c>64:ff9b::/96</c>), 6to4 (<c>2002::/16</c>)
    /// and Teredo (<c>2001::/32</c>: the server and the client, whose address is stored inverted). Null for any other.
    /// </summary>
    internal static byte[][]? EmbeddedIPv4(byte[] b)
    {
        bool Zero(int from, int to) => b[from..to].All(x => x == 0);
        byte[] Last4() => b[12..16];
        if (Zero(0, 10) && b[10] == 0xff && b[11] == 0xff)
        {
            return [Last4()];
        }
        if (Zero(0, 8) && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0)
        {
            return [Last4()];
        }
        if (Zero(0, 12))
        {
            return [Last4()];
        }
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && Zero(4, 12))
        {
            return [Last4()];
        }
        if (b[0] == 0x20 && b[1] == 0x02)
        {
            return [b[2..6]];
        }
        if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00)
        {
            return [b[4..8], b[12..16].Select(x => (byte)~x).ToArray()];
        }
        return null;
    }

    private static bool IsPublicIPv4(byte[] b) =>
        !(b[0] == 0 || b[0] == 10 || b[0] == 127 || b[0] >= 224
            || (b[0] == 100 && b[1] >= 64 && b[1] <= 127)
            || (b[0] == 169 && b[1] == 254)
            || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
            || (b[0] == 192 && b[1] == 168)
            || (b[0] == 192 && b[1] == 0 && (b[2] == 0 || b[2] == 2))
            || (b[0] == 198 && (b[1] == 18 || b[1] == 19))
            || (b[0] == 198 && b[1] == 51 && b[2] == 100)
            || (b[0] == 203 && b[1] == 0 && b[2] == 113));
}
