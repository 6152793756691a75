using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;

namespace ThreePL.Functions.Storage;

/// <summary>
/// Stamps <c>x-ms-date</c>/<c>x-ms-version</c> and signs with the account key. Sits after the retry policy so
/// each attempt carries a fresh date and a signature over the headers actually sent.
/// </summary>
internal sealed class SharedKeyPolicy(string accountName, byte[] accountKey, StorageService service) : HttpPipelineSynchronousPolicy
{
    internal const string TableVersion = "2019-02-02";
    internal const string QueueVersion = "2024-11-04";

    public override void OnSendingRequest(HttpMessage message)
    {
        var request = message.Request;
        request.Headers.SetValue("x-ms-date", DateTimeOffset.UtcNow.ToString("R", CultureInfo.InvariantCulture));
        request.Headers.SetValue("x-ms-version", service == StorageService.Table ? TableVersion : QueueVersion);

        var stringToSign = service == StorageService.Table
            ? BuildTableStringToSign(request, accountName)
            : BuildQueueStringToSign(request, accountName);
        var signature = Convert.ToBase64String(HMACSHA256.HashData(accountKey, Encoding.UTF8.GetBytes(stringToSign)));
        request.Headers.SetValue("Authorization", $"SharedKey {accountName}:{signature}");
    }

    internal static string BuildTableStringToSign(Request request, string accountName)
    {
        var uri = request.Uri.ToUri();
        var resource = new StringBuilder("/").Append(accountName).Append(uri.AbsolutePath);

        // Tables sign no query parameter except comp.
        var comp = QueryParameters(uri).FirstOrDefault(p => p.Key == "comp");
        if (comp.Key is not null)
        {
            resource.Append("?comp=").Append(comp.Value);
        }

        return string.Join('\n',
            request.Method.Method,
            Header(request, "Content-MD5"),
            Header(request, "Content-Type"),
            Header(request, "x-ms-date"),
            resource.ToString());
    }

    internal static string BuildQueueStringToSign(Request request, string accountName)
    {
        var builder = new StringBuilder();
        builder.Append(request.Method.Method).Append('\n');
        builder.Append(Header(request, "Content-Encoding")).Append('\n');
        builder.Append(Header(request, "Content-Language")).Append('\n');
        var length = request.Content is not null && request.Content.TryComputeLength(out var computed) ? computed : 0;
        builder.Append(length == 0 ? string.Empty : length.ToString(CultureInfo.InvariantCulture)).Append('\n');
        builder.Append(Header(request, "Content-MD5")).Append('\n');
        builder.Append(Header(request, "Content-Type")).Append('\n');
        builder.Append('\n'); // Date: never sent; x-ms-date is signed below instead.
        builder.Append(Header(request, "If-Modified-Since")).Append('\n');
        builder.Append(Header(request, "If-Match")).Append('\n');
        builder.Append(Header(request, "If-None-Match")).Append('\n');
        builder.Append(Header(request, "If-Unmodified-Since")).Append('\n');
        builder.Append(Header(request, "Range")).Append('\n');

        // Every x-ms-* header counts, including the client request ids Azure.Core adds before this policy runs.
        foreach (var header in request.Headers
                     .Where(h => h.Name.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
                     .Select(h => (Name: h.Name.ToLowerInvariant(), h.Value))
                     .OrderBy(h => h.Name, StringComparer.Ordinal))
        {
            builder.Append(header.Name).Append(':').Append(header.Value.Trim()).Append('\n');
        }

        var uri = request.Uri.ToUri();
        builder.Append('/').Append(accountName).Append(uri.AbsolutePath);
        foreach (var group in QueryParameters(uri)
                     .GroupBy(p => p.Key.ToLowerInvariant())
                     .OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            builder.Append('\n').Append(group.Key).Append(':').Append(string.Join(',', group.Select(p => p.Value).Order(StringComparer.Ordinal)));
        }

        return builder.ToString();
    }

    private static string Header(Request request, string name) =>
        request.Headers.TryGetValue(name, out var value) ? value : string.Empty;

    private static IEnumerable<KeyValuePair<string, string>> QueryParameters(Uri uri)
    {
        var query = uri.Query.TrimStart('?');
        if (query.Length == 0)
        {
            yield break;
        }

        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var separator = pair.IndexOf('=');
            yield return separator < 0
                ? new(Uri.UnescapeDataString(pair), string.Empty)
                : new(Uri.UnescapeDataString(pair[..separator]), Uri.UnescapeDataString(pair[(separator + 1)..]));
        }
    }
}
