using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Webhooks;

/// <summary>What one HTTP attempt produced. <see cref="StatusCode"/> is null when no answer came (blocked, refused, timed out).</summary>
public sealed record SendResult(int? StatusCode, long LatencyMs, string? Response, string? Error, TimeSpan? RetryAfter)
{
    public bool Succeeded => StatusCode is >= 200 and < 300;
}

/// <summary>
/// One signed POST. Redirects are not followed (a 3xx is a failure: following it would let a public URL
/// bounce us to a private one); the timeout covers everything up to the first kilobyte of the answer.
/// The SSRF guard runs twice: on the URL before sending, and on the address actually connected to
/// (<see cref="ConnectAsync"/>), so DNS rebinding between the check and the connect does not get through.
/// </summary>
public sealed class WebhookSender(IHttpClientFactory clients, WebhookUrlPolicy policy, WebhookOptions options, TimeProvider time)
{
    public const string ClientName = "webhooks";

    public static void Configure(IServiceCollection services) =>
        services.AddHttpClient(ClientName, c =>
            {
                c.Timeout = Timeout.InfiniteTimeSpan;
                c.DefaultRequestHeaders.UserAgent.ParseAdd("ThreePL-Connect-Webhooks/1.0");
            })
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
                UseProxy = false,
                AutomaticDecompression = DecompressionMethods.None,
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                ConnectTimeout = sp.GetRequiredService<WebhookOptions>().Timeout,
                ConnectCallback = (context, ct) => ConnectAsync(context.DnsEndPoint, sp.GetRequiredService<WebhookUrlPolicy>().AllowInsecureLoopback, ct),
            });

    public async Task<SendResult> SendAsync(Uri url, string messageId, string body, IReadOnlyCollection<string> secrets, CancellationToken cancellationToken)
    {
        if (await policy.CheckAsync(url, cancellationToken).ConfigureAwait(false) is { } refused)
        {
            return new SendResult(null, 0, null, "Destination refused: " + refused, null);
        }
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(WebhookSignature.IdHeader, messageId);
        request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(messageId, timestamp, body, secrets));

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await clients.CreateClient(ClientName)
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            var text = await ReadPrefixAsync(response, timeout.Token).ConfigureAwait(false);
            return new SendResult((int)response.StatusCode, Elapsed(started), text, null, RetryAfter(response));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new SendResult(null, Elapsed(started), null, $"Timed out after {options.Timeout.TotalSeconds:0.#} s.", null);
        }
        catch (HttpRequestException ex)
        {
            return new SendResult(null, Elapsed(started), null, ex.InnerException?.Message ?? ex.Message, null);
        }
    }

    /// <summary>Connects only to addresses the policy allows, whatever DNS says at this moment.</summary>
    public static async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, bool allowLoopback, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken).ConfigureAwait(false);
        var allowed = addresses.Where(a => WebhookUrlPolicy.IsPublic(a) || (allowLoopback && IPAddress.IsLoopback(a))).ToArray();
        if (allowed.Length == 0 || allowed.Length != addresses.Length)
        {
            throw new HttpRequestException($"{endpoint.Host} resolves to a non-public address; not connecting.");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, endpoint.Port, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<string> ReadPrefixAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var buffer = new byte[WebhookOptions.ResponseBytesKept];
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var read = 0;
            while (read < buffer.Length)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }
                read += n;
            }
            // Cut at a character boundary; a torn multi-byte sequence would become U+FFFD anyway.
            return Encoding.UTF8.GetString(buffer, 0, read);
        }
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }
        return header?.Date is { } date ? date - time.GetUtcNow() : null;
    }

    private static long Elapsed(long started) => (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
}
