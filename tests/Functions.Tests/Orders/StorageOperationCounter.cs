using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;

namespace ThreePL.Functions.Tests.Orders;

/// <summary>
/// Counts storage operations as the app issues them (per call, so a retry of one operation counts once), by
/// kind: table reads, queries, writes and batches; queue sends, receives and deletes.
/// </summary>
public sealed class StorageOperationCounter(int queuePort) : HttpPipelinePolicy
{
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, long> Snapshot() => new Dictionary<string, long>(_counts);

    public void Reset() => _counts.Clear();

    public long TableOperations => _counts.Where(c => c.Key.StartsWith("table", StringComparison.Ordinal)).Sum(c => c.Value);

    public long Get(string kind) => _counts.TryGetValue(kind, out var value) ? value : 0;

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Count(message.Request);
        ProcessNext(message, pipeline);
    }

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Count(message.Request);
        return ProcessNextAsync(message, pipeline);
    }

    private void Count(Request request)
    {
        var uri = request.Uri.ToUri();
        var path = uri.AbsolutePath;
        var method = request.Method.Method;
        string kind;
        if (uri.Port == queuePort)
        {
            kind = !path.Contains("/messages", StringComparison.Ordinal) ? "queue-other"
                : method switch { "POST" => "queue-send", "GET" => "queue-receive", "DELETE" => "queue-delete", _ => "queue-update" };
        }
        else if (path.EndsWith("$batch", StringComparison.Ordinal))
        {
            kind = "table-batch";
        }
        else
        {
            var entity = path.Contains("RowKey", StringComparison.Ordinal);
            kind = method switch
            {
                "GET" => entity ? "table-read" : "table-query",
                "POST" => path.EndsWith("/Tables", StringComparison.Ordinal) ? "table-other" : "table-insert",
                "DELETE" => "table-delete",
                _ => "table-update",
            };
        }
        _counts.AddOrUpdate(kind, 1, (_, n) => n + 1);
    }
}
