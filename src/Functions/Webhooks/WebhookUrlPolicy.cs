using System.Net;
using System.Net.Sockets;

namespace ThreePL.Functions.Webhooks;

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

    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] == 0 || b[0] == 10 || b[0] == 127 || b[0] >= 224
                || (b[0] == 100 && b[1] >= 64 && b[1] <= 127)
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && (b[2] == 0 || b[2] == 2))
                || (b[0] == 198 && (b[1] == 18 || b[1] == 19))
                || (b[0] == 198 && b[1] == 51 && b[2] == 100)
                || (b[0] == 203 && b[1] == 0 && b[2] == 113));
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = address.GetAddressBytes();
            return !(IPAddress.IsLoopback(address) || address.Equals(IPAddress.IPv6None) || address.IsIPv6LinkLocal
                || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6Teredo
                || (b[0] & 0xfe) == 0xfc
                || (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
                || (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b)
                || b.Take(12).All(x => x == 0));
        }
        return false;
    }
}
