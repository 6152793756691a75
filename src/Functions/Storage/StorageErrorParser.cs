using System.Text.Json;
using System.Xml.Linq;
using Azure;
using Azure.Core;

namespace ThreePL.Functions.Storage;

/// <summary>
/// Fills <see cref="RequestFailedException.ErrorCode"/> for storage responses, which Azure.Core's default parser
/// leaves empty: the code is in <c>x-ms-error-code</c>, a Tables <c>odata.error</c> body or a Queues XML body.
/// </summary>
internal sealed class StorageErrorParser : RequestFailedDetailsParser
{
    public static StorageErrorParser Instance { get; } = new();

    public override bool TryParse(Response response, out ResponseError? error, out IDictionary<string, string>? data)
    {
        data = null;
        var (code, message) = ReadBody(response);
        if (response.Headers.TryGetValue("x-ms-error-code", out var headerCode) && !string.IsNullOrEmpty(headerCode))
        {
            code = headerCode;
        }

        error = code is null && message is null ? null : new ResponseError(code, message);
        return error is not null;
    }

    internal static (string? Code, string? Message) ReadBody(Response response)
    {
        BinaryData? content;
        try
        {
            content = response.Content;
        }
        catch (InvalidOperationException)
        {
            // The body was streamed rather than buffered; the header is all we have.
            return (null, null);
        }

        if (content is null || content.ToMemory().IsEmpty)
        {
            return (null, null);
        }

        var text = content.ToString().TrimStart();
        try
        {
            if (text.StartsWith('{'))
            {
                using var document = JsonDocument.Parse(text);
                if (document.RootElement.TryGetProperty("odata.error", out var odataError))
                {
                    var code = odataError.TryGetProperty("code", out var c) ? c.GetString() : null;
                    var message = odataError.TryGetProperty("message", out var m)
                        ? m.ValueKind == JsonValueKind.Object && m.TryGetProperty("value", out var v) ? v.GetString() : m.ToString()
                        : null;
                    return (code, message);
                }
            }
            else if (text.StartsWith('<'))
            {
                var root = XDocument.Parse(text).Root;
                if (root?.Name.LocalName == "Error")
                {
                    return (root.Element("Code")?.Value, root.Element("Message")?.Value);
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or System.Xml.XmlException)
        {
            // An unparseable error body (a proxy's HTML page, say) still yields the status code.
        }

        return (null, null);
    }
}
