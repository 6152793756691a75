using System.Globalization;
using System.Security;
using System.Text;
using System.Xml.Linq;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace ThreePL.Functions.Storage.Queues;

/// <summary>
/// One queue. Message text travels as base64 of its UTF-8 bytes, the Azure Functions queue trigger's default
/// encoding, so the Functions host reads what we send and we read what it sends.
/// </summary>
public sealed class QueueClient
{
    /// <summary>The largest message text once base64-encoded, as the service counts it.</summary>
    public const int MaxEncodedMessageLength = 64 * 1024;

    public const int MaxMessagesPerReceive = 32;

    private static readonly TimeSpan s_maxVisibility = TimeSpan.FromDays(7);

    private readonly Uri _endpoint;
    private readonly HttpPipeline _pipeline;

    internal QueueClient(Uri endpoint, HttpPipeline pipeline, string name)
    {
        _endpoint = endpoint;
        _pipeline = pipeline;
        Name = name;
    }

    public string Name { get; }

    /// <summary>Creates the queue; an existing one is not an error (201 created, 204 already there).</summary>
    public async Task<Response> CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Put, string.Empty);
        return await SendAsync(message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes the queue; a missing queue returns its 404 response.</summary>
    public async Task<Response> DeleteAsync(CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Delete, string.Empty);
        try
        {
            return await SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return ex.GetRawResponse()!;
        }
    }

    /// <param name="visibilityTimeout">Delay before the message can be received: 0 s to 7 days.</param>
    /// <param name="timeToLive">Null for the service default of 7 days; <see cref="TimeSpan.MaxValue"/> never expires;
    /// otherwise at least 1 s, in whole seconds, and longer than <paramref name="visibilityTimeout"/>.</param>
    /// <exception cref="ArgumentException">The encoded message exceeds <see cref="MaxEncodedMessageLength"/>.</exception>
    public async Task<SendReceipt> SendMessageAsync(string messageText, TimeSpan? visibilityTimeout = null, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default)
    {
        var encoded = Encode(messageText);
        if (visibilityTimeout is { } visibility)
        {
            CheckVisibility(visibility, TimeSpan.Zero, nameof(visibilityTimeout));
        }

        if (timeToLive is { } ttl && ttl != TimeSpan.MaxValue && (ttl < TimeSpan.FromSeconds(1) || ttl <= (visibilityTimeout ?? TimeSpan.Zero)))
        {
            throw new ArgumentOutOfRangeException(nameof(timeToLive), ttl, "Time to live must be at least 1 s and longer than the visibility timeout.");
        }

        using var message = CreateMessage(RequestMethod.Post, "/messages");
        if (visibilityTimeout is { } v)
        {
            message.Request.Uri.AppendQuery("visibilitytimeout", Seconds(v));
        }

        if (timeToLive is { } t)
        {
            message.Request.Uri.AppendQuery("messagettl", t == TimeSpan.MaxValue ? "-1" : Seconds(t));
        }

        SetMessageBody(message.Request, encoded);
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        var element = ReadMessages(response).Single();
        return new SendReceipt(
            Text(element, "MessageId"),
            Text(element, "PopReceipt"),
            Time(element, "InsertionTime"),
            Time(element, "ExpirationTime"),
            Time(element, "TimeNextVisible"));
    }

    /// <summary>Dequeues up to <paramref name="maxMessages"/> messages, hiding them for <paramref name="visibilityTimeout"/>
    /// (service default 30 s). An empty list means none is visible now.</summary>
    public async Task<IReadOnlyList<QueueMessage>> ReceiveMessagesAsync(int maxMessages = 1, TimeSpan? visibilityTimeout = null, CancellationToken cancellationToken = default)
    {
        CheckMessageCount(maxMessages);
        if (visibilityTimeout is { } visibility)
        {
            CheckVisibility(visibility, TimeSpan.FromSeconds(1), nameof(visibilityTimeout));
        }

        using var message = CreateMessage(RequestMethod.Get, "/messages");
        message.Request.Uri.AppendQuery("numofmessages", maxMessages.ToString(CultureInfo.InvariantCulture));
        if (visibilityTimeout is { } v)
        {
            message.Request.Uri.AppendQuery("visibilitytimeout", Seconds(v));
        }

        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        return ReadMessages(response)
            .Select(e => new QueueMessage(
                Text(e, "MessageId"),
                Text(e, "PopReceipt"),
                Decode(Text(e, "MessageText")),
                long.Parse(Text(e, "DequeueCount"), CultureInfo.InvariantCulture),
                Time(e, "InsertionTime"),
                Time(e, "ExpirationTime"),
                Time(e, "TimeNextVisible")))
            .ToList();
    }

    public async Task<IReadOnlyList<PeekedMessage>> PeekMessagesAsync(int maxMessages = 1, CancellationToken cancellationToken = default)
    {
        CheckMessageCount(maxMessages);
        using var message = CreateMessage(RequestMethod.Get, "/messages");
        message.Request.Uri.AppendQuery("peekonly", "true");
        message.Request.Uri.AppendQuery("numofmessages", maxMessages.ToString(CultureInfo.InvariantCulture));
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        return ReadMessages(response)
            .Select(e => new PeekedMessage(
                Text(e, "MessageId"),
                Decode(Text(e, "MessageText")),
                long.Parse(Text(e, "DequeueCount"), CultureInfo.InvariantCulture),
                Time(e, "InsertionTime"),
                Time(e, "ExpirationTime")))
            .ToList();
    }

    /// <summary>Extends (or shortens) a received message's invisibility and optionally replaces its text.
    /// Use the returned pop receipt from now on.</summary>
    /// <exception cref="RequestFailedException">400 <c>PopReceiptMismatch</c> for a stale receipt; 404 when the message is gone.</exception>
    public async Task<UpdateReceipt> UpdateMessageAsync(string messageId, string popReceipt, TimeSpan visibilityTimeout, string? messageText = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        ArgumentException.ThrowIfNullOrEmpty(popReceipt);
        CheckVisibility(visibilityTimeout, TimeSpan.Zero, nameof(visibilityTimeout));
        var encoded = messageText is null ? null : Encode(messageText);

        using var message = CreateMessage(RequestMethod.Put, "/messages/" + Uri.EscapeDataString(messageId));
        message.Request.Uri.AppendQuery("popreceipt", Uri.EscapeDataString(popReceipt), escapeValue: false);
        message.Request.Uri.AppendQuery("visibilitytimeout", Seconds(visibilityTimeout));
        if (encoded is not null)
        {
            SetMessageBody(message.Request, encoded);
        }

        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        return new UpdateReceipt(
            Header(response, "x-ms-popreceipt"),
            ParseTime(Header(response, "x-ms-time-next-visible")));
    }

    /// <summary>
    /// Deletes a received message. A message already gone returns its 404 response instead of throwing: after an
    /// Azurite stall, the retry of a delete that succeeded sees 404, and the caller wanted it gone either way.
    /// </summary>
    /// <exception cref="RequestFailedException">400 <c>PopReceiptMismatch</c> when someone received the message since.</exception>
    public async Task<Response> DeleteMessageAsync(string messageId, string popReceipt, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        ArgumentException.ThrowIfNullOrEmpty(popReceipt);

        using var message = CreateMessage(RequestMethod.Delete, "/messages/" + Uri.EscapeDataString(messageId));

        // A raw '+' in a receipt would be decoded as a space and never match.
        message.Request.Uri.AppendQuery("popreceipt", Uri.EscapeDataString(popReceipt), escapeValue: false);
        try
        {
            return await SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return ex.GetRawResponse()!;
        }
    }

    /// <summary>The service's estimate of the queue depth, including invisible messages.</summary>
    public async Task<int> GetApproximateMessagesCountAsync(CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Get, string.Empty);
        message.Request.Uri.AppendQuery("comp", "metadata");
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        return int.Parse(Header(response, "x-ms-approximate-messages-count"), CultureInfo.InvariantCulture);
    }

    private HttpMessage CreateMessage(RequestMethod method, string escapedSubPath)
    {
        var message = _pipeline.CreateMessage();
        message.Request.Method = method;
        message.Request.Uri.Reset(_endpoint);
        message.Request.Uri.AppendPath("/" + Name + escapedSubPath, escape: false);
        return message;
    }

    private async Task<Response> SendAsync(HttpMessage message, CancellationToken cancellationToken)
    {
        await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        var response = message.Response;
        return response.IsError ? throw new RequestFailedException(response, null, StorageErrorParser.Instance) : response;
    }

    private static string Encode(string messageText)
    {
        ArgumentNullException.ThrowIfNull(messageText);
        var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes(messageText));
        return encoded.Length <= MaxEncodedMessageLength
            ? encoded
            : throw new ArgumentException(
                $"The message is {encoded.Length} characters once base64-encoded; the limit is {MaxEncodedMessageLength}. Queue ids, not documents.",
                nameof(messageText));
    }

    private static string Decode(string wireText)
    {
        // Tools that write raw text (no encoding) exist; such a message is returned as is rather than
        // poisoning every receive with a FormatException.
        var buffer = new byte[wireText.Length];
        return Convert.TryFromBase64String(wireText, buffer, out var written)
            ? Encoding.UTF8.GetString(buffer, 0, written)
            : wireText;
    }

    private static void SetMessageBody(Request request, string encoded)
    {
        var xml = $"<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessage><MessageText>{SecurityElement.Escape(encoded)}</MessageText></QueueMessage>";
        request.Headers.Add("Content-Type", "application/xml");
        request.Content = RequestContent.Create(Encoding.UTF8.GetBytes(xml));
    }

    private static IEnumerable<XElement> ReadMessages(Response response) =>
        XDocument.Parse(response.Content.ToString()).Root?.Elements("QueueMessage") ?? [];

    private static string Text(XElement element, string name) =>
        element.Element(name)?.Value ?? throw new InvalidOperationException($"The queue response has no {name}.");

    private static DateTimeOffset Time(XElement element, string name) => ParseTime(Text(element, name));

    private static DateTimeOffset ParseTime(string rfc1123) =>
        DateTimeOffset.Parse(rfc1123, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    private static string Header(Response response, string name) =>
        response.Headers.TryGetValue(name, out var value) ? value : throw new InvalidOperationException($"The queue response has no {name} header.");

    private static string Seconds(TimeSpan value) =>
        ((long)Math.Ceiling(value.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    private static void CheckMessageCount(int maxMessages)
    {
        if (maxMessages is < 1 or > MaxMessagesPerReceive)
        {
            throw new ArgumentOutOfRangeException(nameof(maxMessages), maxMessages, $"Between 1 and {MaxMessagesPerReceive} messages at a time.");
        }
    }

    private static void CheckVisibility(TimeSpan value, TimeSpan minimum, string parameterName)
    {
        if (value < minimum || value > s_maxVisibility)
        {
            throw new ArgumentOutOfRangeException(parameterName, value, $"Visibility timeout must be between {minimum.TotalSeconds} s and 7 days.");
        }
    }
}
