using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace ThreePL.Functions.Tests.Infrastructure;

/// <summary>
/// A counting reverse proxy between an app and Azurite, one listener per storage service (blob, queue, table), so
/// storage operations are counted from outside the app: every HTTP request the process sends, whichever client
/// sent it (the app's stores, the host's queue trigger, the Durable task hub). Bytes are relayed unchanged in both
/// directions over one upstream connection per client connection (keep-alive, <c>$batch</c> bodies and signatures
/// pass as they are); a copy of each direction is parsed as HTTP/1.1 to record one <see cref="StorageOperation"/>
/// per request, classified by <see cref="StorageOperationClassifier"/> once its response has been read.
/// Counting can never break the traffic: a connection whose bytes do not parse is still relayed, and reported in
/// <see cref="UnparsedConnections"/> so a figure that missed requests cannot pass unnoticed.
/// </summary>
public sealed class CountingStorageProxy : IAsyncDisposable
{
    // Bodies are kept only where classification needs them (inserts, batches, receives), up to this size.
    private const int MaxCapturedBody = 4 * 1024 * 1024;

    private readonly StorageOperationClassifier _classifier;
    private readonly ConcurrentQueue<StorageOperation> _operations = new();
    private readonly List<(TcpListener Listener, Task Loop)> _listeners = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, byte> _connections = new();
    private int _unparsed;

    private CountingStorageProxy(StorageOperationClassifier classifier) => _classifier = classifier;

    /// <summary>A connection string for the app: the development account, each endpoint pointing at this proxy.</summary>
    public string ConnectionString { get; private set; } = "";

    public int UnparsedConnections => Volatile.Read(ref _unparsed);

    /// <summary>Starts one listener per service in <paramref name="upstreams"/> (service name → Azurite's port).</summary>
    public static CountingStorageProxy Start(StorageOperationClassifier classifier, string accountName, string accountKey, IReadOnlyDictionary<StorageService, int> upstreams)
    {
        var proxy = new CountingStorageProxy(classifier);
        var connectionString = new StringBuilder($"DefaultEndpointsProtocol=http;AccountName={accountName};AccountKey={accountKey};");
        foreach (var (service, upstreamPort) in upstreams)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            proxy._listeners.Add((listener, Task.Run(() => proxy.AcceptAsync(listener, service, upstreamPort))));
            connectionString.Append(CultureInfo.InvariantCulture, $"{service}Endpoint=http://127.0.0.1:{port}/{accountName};");
        }
        proxy.ConnectionString = connectionString.ToString();
        return proxy;
    }

    /// <summary>
    /// The operations whose responses have been read since the last <see cref="Reset"/>. A response is parsed from a
    /// copy, so its operation can appear a moment after the client got it: wait for quiet before reading or resetting.
    /// </summary>
    public IReadOnlyList<StorageOperation> Snapshot() => [.. _operations];

    public void Reset() => _operations.Clear();

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        foreach (var (listener, _) in _listeners)
        {
            listener.Stop();
        }
        await Task.WhenAll(_listeners.Select(l => l.Loop).Concat(_connections.Keys)).ContinueWith(_ => { }, TaskScheduler.Default);
        _stopping.Dispose();
    }

    private async Task AcceptAsync(TcpListener listener, StorageService service, int upstreamPort)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            var connection = Task.Run(() => RelayAsync(client, service, upstreamPort));
            _connections.TryAdd(connection, 0);
            _ = connection.ContinueWith(t => _connections.TryRemove(t, out _), TaskScheduler.Default);
        }
    }

    private async Task RelayAsync(Socket client, StorageService service, int upstreamPort)
    {
        using var clientSocket = client;
        using var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, upstreamPort, _stopping.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return;
        }
        var requests = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var responses = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var pending = Channel.CreateUnbounded<PendingRequest>();
        var parsing = Task.WhenAll(
            ParseRequestsAsync(requests.Reader, pending.Writer, service),
            ParseResponsesAsync(responses.Reader, pending.Reader));
        await Task.WhenAll(
            PumpAsync(client, upstream, requests.Writer),
            PumpAsync(upstream, client, responses.Writer));
        if ((await parsing).Contains(false))
        {
            Interlocked.Increment(ref _unparsed);
        }
        // A request the server never answered (the connection closed first) still went to storage.
        while (pending.Reader.TryRead(out var unanswered))
        {
            Record(unanswered, status: 0, responseBody: default);
        }
    }

    /// <summary>Copies <paramref name="from"/> to <paramref name="to"/> unchanged and hands a copy to the parser.</summary>
    private async Task PumpAsync(Socket from, Socket to, PipeWriter copy)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        var parsing = true;
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stopping.Token);
                if (read == 0)
                {
                    break;
                }
                if (parsing)
                {
                    parsing = !(await copy.WriteAsync(buffer.AsMemory(0, read), _stopping.Token)).IsCompleted;
                }
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stopping.Token);
            }
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Either side went away (Azurite idle-closes keep-alive connections after 5 s): end both directions.
            from.Close();
            to.Close();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            await copy.CompleteAsync();
        }
    }

    private static async Task<bool> ParseRequestsAsync(PipeReader reader, ChannelWriter<PendingRequest> pending, StorageService service)
    {
        try
        {
            while (await HttpHead.ReadAsync(reader) is { } head)
            {
                var parts = head.StartLine.Split(' ', 3);
                if (parts.Length != 3)
                {
                    throw new InvalidDataException("Not an HTTP request line: " + head.StartLine);
                }
                var method = parts[0];
                var target = parts[1];
                var capture = StorageOperationClassifier.NeedsRequestBody(service, method);
                var body = await ReadBodyAsync(reader, head, capture, bodyUntilClose: false);
                await pending.WriteAsync(new PendingRequest(service, method, target, head.Headers, body));
            }
            return true;
        }
        catch (InvalidDataException)
        {
            await reader.CompleteAsync();
            return false;
        }
        finally
        {
            pending.TryComplete();
        }
    }

    private async Task<bool> ParseResponsesAsync(PipeReader reader, ChannelReader<PendingRequest> pending)
    {
        try
        {
            while (await HttpHead.ReadAsync(reader) is { } head)
            {
                var parts = head.StartLine.Split(' ', 3);
                if (parts.Length < 2 || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out var status))
                {
                    throw new InvalidDataException("Not an HTTP status line: " + head.StartLine);
                }
                if (status is >= 100 and < 200)
                {
                    continue;
                }
                if (!await pending.WaitToReadAsync() || !pending.TryRead(out var request))
                {
                    throw new InvalidDataException("A response without a request.");
                }
                var hasBody = request.Method != "HEAD" && status is not (204 or 304);
                var capture = hasBody && StorageOperationClassifier.NeedsResponseBody(request.Service, request.Method, request.Target);
                var body = hasBody ? await ReadBodyAsync(reader, head, capture, bodyUntilClose: true) : default;
                Record(request, status, body);
            }
            return true;
        }
        catch (InvalidDataException)
        {
            await reader.CompleteAsync();
            return false;
        }
    }

    private void Record(PendingRequest request, int status, ReadOnlyMemory<byte> responseBody) =>
        _operations.Enqueue(_classifier.Classify(request.Service, request.Method, request.Target, request.Headers, request.Body.Span, status, responseBody.Span));

    /// <summary>Reads (and keeps, if <paramref name="capture"/>) a body framed by Content-Length, chunked, or, for a response without either, the connection's end.</summary>
    private static async Task<ReadOnlyMemory<byte>> ReadBodyAsync(PipeReader reader, HttpHead head, bool capture, bool bodyUntilClose)
    {
        var kept = capture ? new ArrayBufferWriter<byte>() : null;
        if (head.Header("Transfer-Encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true)
        {
            while (true)
            {
                var sizeLine = await HttpHead.ReadLineAsync(reader) ?? throw new InvalidDataException("The connection ended inside a chunked body.");
                var size = long.Parse(sizeLine.Split(';')[0].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (size == 0)
                {
                    while (!string.IsNullOrEmpty(await HttpHead.ReadLineAsync(reader)))
                    {
                        // Trailer fields: none of them matters for counting.
                    }
                    break;
                }
                await CopyAsync(reader, size, kept);
                if (await HttpHead.ReadLineAsync(reader) != "")
                {
                    throw new InvalidDataException("A chunk without its CRLF.");
                }
            }
        }
        else if (head.Header("Content-Length") is { } length)
        {
            await CopyAsync(reader, long.Parse(length, CultureInfo.InvariantCulture), kept);
        }
        else if (bodyUntilClose)
        {
            await CopyAsync(reader, count: null, kept);
        }
        return kept?.WrittenMemory ?? default;
    }

    /// <summary>Consumes <paramref name="count"/> bytes, or (null) everything until the connection ends.</summary>
    private static async Task CopyAsync(PipeReader reader, long? count, ArrayBufferWriter<byte>? kept)
    {
        var remaining = count ?? long.MaxValue;
        while (remaining > 0)
        {
            var result = await reader.ReadAsync();
            var take = result.Buffer.Slice(0, Math.Min(remaining, result.Buffer.Length));
            if (kept is not null && kept.WrittenCount + take.Length <= MaxCapturedBody)
            {
                foreach (var segment in take)
                {
                    kept.Write(segment.Span);
                }
            }
            remaining -= take.Length;
            reader.AdvanceTo(take.End);
            if (remaining > 0 && result.IsCompleted && take.Length == result.Buffer.Length)
            {
                if (count is not null)
                {
                    throw new InvalidDataException("The connection ended inside a body.");
                }
                return;
            }
        }
    }

    private sealed record PendingRequest(StorageService Service, string Method, string Target, IReadOnlyDictionary<string, string> Headers, ReadOnlyMemory<byte> Body);

    /// <summary>The start line and header fields of one HTTP/1.1 message.</summary>
    private sealed record HttpHead(string StartLine, IReadOnlyDictionary<string, string> Headers)
    {
        public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

        /// <summary>The next message's head, or null when the stream ended between messages.</summary>
        public static async Task<HttpHead?> ReadAsync(PipeReader reader)
        {
            string? startLine;
            do
            {
                startLine = await ReadLineAsync(reader);
            }
            while (startLine == "");
            if (startLine is null)
            {
                return null;
            }
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            while (await ReadLineAsync(reader) is { Length: > 0 } line)
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    throw new InvalidDataException("Not a header field: " + line);
                }
                var name = line[..colon];
                var value = line[(colon + 1)..].Trim();
                headers[name] = headers.TryGetValue(name, out var earlier) ? earlier + ", " + value : value;
            }
            return new HttpHead(startLine, headers);
        }

        /// <summary>One CRLF-terminated line (without it), or null at the end of the stream.</summary>
        public static async Task<string?> ReadLineAsync(PipeReader reader)
        {
            while (true)
            {
                var result = await reader.ReadAsync();
                var sequence = new SequenceReader<byte>(result.Buffer);
                if (sequence.TryReadTo(out ReadOnlySequence<byte> line, "\r\n"u8))
                {
                    var text = Encoding.Latin1.GetString(line);
                    reader.AdvanceTo(sequence.Position);
                    return text;
                }
                if (result.IsCompleted)
                {
                    var rest = result.Buffer.Length;
                    reader.AdvanceTo(result.Buffer.End);
                    return rest == 0 ? null : throw new InvalidDataException("The connection ended inside a line.");
                }
                if (result.Buffer.Length > 64 * 1024)
                {
                    throw new InvalidDataException("A line longer than 64 KiB.");
                }
                reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }
        }
    }
}
