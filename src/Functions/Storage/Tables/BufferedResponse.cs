using System.Diagnostics.CodeAnalysis;
using Azure;
using Azure.Core;

namespace ThreePL.Functions.Storage.Tables;

/// <summary>One operation's response carved out of a <c>$batch</c> multipart body.</summary>
internal sealed class BufferedResponse(int status, string reasonPhrase, IReadOnlyList<HttpHeader> headers, byte[] body, string clientRequestId) : Response
{
    public override int Status => status;

    public override string ReasonPhrase => reasonPhrase;

    public override Stream? ContentStream { get; set; } = new MemoryStream(body, writable: false);

    public override string ClientRequestId { get; set; } = clientRequestId;

    public override bool IsError => status >= 400;

    public override void Dispose()
    {
    }

    protected override bool TryGetHeader(string name, [NotNullWhen(true)] out string? value)
    {
        value = headers.FirstOrDefault(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase)).Value;
        return value is not null;
    }

    protected override bool TryGetHeaderValues(string name, [NotNullWhen(true)] out IEnumerable<string>? values)
    {
        var matches = headers.Where(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToList();
        values = matches.Count > 0 ? matches : null;
        return values is not null;
    }

    protected override bool ContainsHeader(string name) =>
        headers.Any(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase));

    protected override IEnumerable<HttpHeader> EnumerateHeaders() => headers;
}
