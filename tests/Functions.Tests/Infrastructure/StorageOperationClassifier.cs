using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ThreePL.Functions.Tests.Infrastructure;

public enum StorageService
{
    Blob,
    Queue,
    Table,
}

/// <summary>
/// One storage request as seen on the wire. <see cref="Resource"/> names what it touched without the app's storage
/// prefix: a table with the patterns of its PartitionKey and RowKey (<c>orders: {id}/history|</c>), a queue, or a
/// blob container. <see cref="Stage"/> is the pipeline stage that resource belongs to (docs/performance.md lists the
/// mapping). A batch is one operation; <see cref="Entities"/> is how many entities it carried (1 for the others).
/// </summary>
public sealed record StorageOperation(StorageService Service, string Kind, string Resource, string Stage, int Entities, int Status, int Messages)
{
    /// <summary>A receive that returned nothing: a trigger polling an empty queue, billed but caused by time, not by orders.</summary>
    public bool IsIdlePoll => Kind == StorageKinds.ReceiveEmpty;
}

/// <summary>The kinds of storage operation the counting proxy tells apart.</summary>
public static class StorageKinds
{
    public const string PointRead = "table point read";
    public const string Query = "table query";
    public const string Insert = "table insert";
    public const string Update = "table update/merge/replace (If-Match)";
    public const string Upsert = "table upsert (no If-Match)";
    public const string Delete = "table delete";
    public const string Batch = "table batch";
    public const string Send = "queue send";
    public const string Receive = "queue receive";
    public const string ReceiveEmpty = "queue receive, empty (idle poll)";
    public const string DeleteMessage = "queue delete message";
    public const string UpdateMessage = "queue update message (visibility)";
    public const string PeekOrMetadata = "queue peek/metadata";
    public const string BlobLease = "blob lease";
    public const string BlobRead = "blob read";
    public const string BlobWrite = "blob write";
    public const string BlobDelete = "blob delete";
    public const string Administration = "create/list/delete table, queue or container";
}

/// <summary>
/// Classifies a storage request by kind and by pipeline stage from what an outside observer sees: method, path,
/// query, <c>If-Match</c>, the keys in the URL, filter or body, and (for receives) how many messages came back.
/// </summary>
public sealed partial class StorageOperationClassifier(string storagePrefix, string durableHubName)
{
    public const string DurableStage = "Durable task hub";

    /// <summary>Inserts and batches carry their keys (and a batch its parts) only in the body.</summary>
    public static bool NeedsRequestBody(StorageService service, string method) =>
        service == StorageService.Table && method == "POST";

    /// <summary>A receive's response says whether it was an idle poll.</summary>
    public static bool NeedsResponseBody(StorageService service, string method, string target) =>
        service == StorageService.Queue && method == "GET" && target.Contains("/messages", StringComparison.Ordinal);

    public StorageOperation Classify(StorageService service, string method, string target, IReadOnlyDictionary<string, string> headers,
        ReadOnlySpan<byte> requestBody, int status, ReadOnlySpan<byte> responseBody)
    {
        var queryStart = target.IndexOf('?', StringComparison.Ordinal);
        var path = Uri.UnescapeDataString(queryStart < 0 ? target : target[..queryStart]);
        var query = queryStart < 0 ? "" : Uri.UnescapeDataString(target[(queryStart + 1)..].Replace('+', ' '));
        // Path-style addressing (Azurite): /account/resource/...
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToArray();
        return service switch
        {
            StorageService.Table => ClassifyTable(method, segments, query, headers, requestBody, status),
            StorageService.Queue => ClassifyQueue(method, segments, query, status, responseBody),
            _ => ClassifyBlob(method, segments, query, status),
        };
    }

    private StorageOperation ClassifyTable(string method, string[] segments, string query, IReadOnlyDictionary<string, string> headers, ReadOnlySpan<byte> body, int status)
    {
        var resource = segments.FirstOrDefault() ?? "";
        if (resource == "$batch")
        {
            return ClassifyBatch(Encoding.UTF8.GetString(body), status);
        }
        var open = resource.IndexOf('(', StringComparison.Ordinal);
        var table = open < 0 ? resource : resource[..open];
        if (table == "Tables")
        {
            return Operation(StorageService.Table, StorageKinds.Administration, "(tables)", status);
        }
        var keys = EntityKeys().Match(resource);
        var (partitionKey, rowKey) = keys.Success ? (Unquote(keys.Groups[1].Value), Unquote(keys.Groups[2].Value)) : ((string?)null, (string?)null);
        var kind = method switch
        {
            "GET" => keys.Success ? StorageKinds.PointRead : StorageKinds.Query,
            "POST" => StorageKinds.Insert,
            "DELETE" => StorageKinds.Delete,
            _ => headers.ContainsKey("If-Match") ? StorageKinds.Update : StorageKinds.Upsert,
        };
        if (kind == StorageKinds.Query)
        {
            (partitionKey, rowKey) = FilterKeys(query);
        }
        else if (kind == StorageKinds.Insert)
        {
            (partitionKey, rowKey) = BodyKeys(Encoding.UTF8.GetString(body));
        }
        return TableOperation(kind, table, partitionKey, [Pattern(rowKey)], 1, status);
    }

    /// <summary>An entity-group transaction: one operation, its parts counted; keyed by its partition and the RowKey patterns it wrote.</summary>
    private StorageOperation ClassifyBatch(string body, int status)
    {
        var parts = BatchPart().Matches(body);
        string? table = null;
        string? partitionKey = null;
        var rowPatterns = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Match part in parts)
        {
            var url = part.Groups["url"].Value;
            var query = url.IndexOf('?', StringComparison.Ordinal);
            var path = Uri.UnescapeDataString(query < 0 ? url : url[..query]);
            var resource = path[(path.LastIndexOf('/') + 1)..];
            var open = resource.IndexOf('(', StringComparison.Ordinal);
            table ??= open < 0 ? resource : resource[..open];
            var keys = EntityKeys().Match(resource);
            var (pk, rk) = keys.Success ? (Unquote(keys.Groups[1].Value), Unquote(keys.Groups[2].Value)) : BodyKeys(part.Groups["body"].Value);
            partitionKey ??= pk;
            rowPatterns.Add(Pattern(rk));
        }
        return TableOperation(StorageKinds.Batch, table ?? "?", partitionKey, rowPatterns, Math.Max(1, parts.Count), status);
    }

    private StorageOperation TableOperation(string kind, string table, string? partitionKey, IReadOnlyCollection<string> rowPatterns, int entities, int status)
    {
        var name = Unprefixed(table);
        var partition = Pattern(partitionKey);
        var rows = rowPatterns.Count == 1 ? rowPatterns.First() : "{" + string.Join(", ", rowPatterns) + "}";
        return new StorageOperation(StorageService.Table, kind, $"{name}: {partition}/{rows}", TableStage(name, partition), entities, status, 0);
    }

    private StorageOperation ClassifyQueue(string method, string[] segments, string query, int status, ReadOnlySpan<byte> responseBody)
    {
        if (segments.Length < 2 || segments[1] != "messages")
        {
            var metadata = query.Contains("comp=metadata", StringComparison.Ordinal) && method is "GET" or "HEAD";
            return Operation(StorageService.Queue, metadata ? StorageKinds.PeekOrMetadata : StorageKinds.Administration, segments.FirstOrDefault() ?? "(queues)", status);
        }
        var hasMessageId = segments.Length > 2;
        var messages = method == "GET" ? Occurrences(responseBody, "<QueueMessage>"u8) : 0;
        var kind = method switch
        {
            "POST" => StorageKinds.Send,
            "GET" when query.Contains("peekonly=true", StringComparison.OrdinalIgnoreCase) => StorageKinds.PeekOrMetadata,
            "GET" => messages > 0 ? StorageKinds.Receive : StorageKinds.ReceiveEmpty,
            "DELETE" => hasMessageId ? StorageKinds.DeleteMessage : StorageKinds.Administration,
            _ => StorageKinds.UpdateMessage,
        };
        return Operation(StorageService.Queue, kind, segments[0], status) with { Messages = messages };
    }

    private StorageOperation ClassifyBlob(string method, string[] segments, string query, int status)
    {
        var kind = query.Contains("comp=lease", StringComparison.Ordinal) ? StorageKinds.BlobLease
            : segments.Length < 2 ? StorageKinds.Administration
            : method switch { "GET" or "HEAD" => StorageKinds.BlobRead, "DELETE" => StorageKinds.BlobDelete, _ => StorageKinds.BlobWrite };
        return Operation(StorageService.Blob, kind, segments.FirstOrDefault() ?? "(containers)", status);
    }

    private StorageOperation Operation(StorageService service, string kind, string queueOrContainer, int status)
    {
        var name = Unprefixed(queueOrContainer);
        var stage = IsDurable(name) ? DurableStage : service == StorageService.Queue ? QueueStage(name) : name;
        return new StorageOperation(service, kind, name, stage, 1, status, 0);
    }

    /// <summary>Where an operation on the app's tables belongs (docs/performance.md, "pipeline stages").</summary>
    private string TableStage(string table, string partition) => IsDurable(table) ? DurableStage : (table, partition) switch
    {
        ("accounts", _) => "auth (API keys, accounts)",
        ("connections", _) => "connections (settings, membership)",
        ("orders", "m|") => "merchant partition (orders, history, list, changes)",
        ("orders", "t|") => "3PL list (t|)",
        ("orders", "{id}") => "orders stored apart (order, history|)",
        ("orders", "rules|" or "carriers|") => "routing inputs (rules|, carriers|)",
        ("webhooks", _) => "webhooks (endpoints, health, legacy deliveries)",
        ("events", _) => "events (catch-up feed, deliveries, attempts)",
        ("inventory", _) => "inventory",
        ("billing", _) => "billing",
        _ => "other table: " + table,
    };

    private static string QueueStage(string queue) => queue switch
    {
        "order-routing" => "routing queue",
        "events" => "events queue (fan-out)",
        "outbox" => "outbox queue (relay, safety net)",
        "order-follow-ups" => "order follow-up queue (commands' events)",
        "webhook-deliveries" => "webhook delivery queue",
        "billing" => "billing",
        "order-handbacks" => "hand-back queue",
        _ when queue.EndsWith("-poison", StringComparison.Ordinal) => "poison queues",
        _ => "other queue: " + queue,
    };

    private bool IsDurable(string name) => durableHubName.Length > 0 && name.StartsWith(durableHubName, StringComparison.OrdinalIgnoreCase);

    private string Unprefixed(string name) =>
        storagePrefix.Length > 0 && name.StartsWith(storagePrefix, StringComparison.OrdinalIgnoreCase) && !IsDurable(name) ? name[storagePrefix.Length..] : name;

    /// <summary>
    /// A key's shape without its identifiers: the text before the first '|' (kept if it is a word such as
    /// <c>history</c> or <c>t</c>, <c>{id}</c> if it looks like an identifier), then '|' if there was one.
    /// </summary>
    public static string Pattern(string? key)
    {
        if (key is null)
        {
            return "*";
        }
        var bar = key.IndexOf('|', StringComparison.Ordinal);
        var head = bar < 0 ? key : key[..bar];
        // A word, or a word after a tilde (the rows that sort after every list row in a list partition).
        var word = head.TrimStart('~') is { Length: > 0 and <= 12 } name && name.All(char.IsAsciiLetterLower) && head.Length - name.Length <= 1;
        return (word ? head : "{id}") + (bar < 0 ? "" : "|");
    }

    private static (string? PartitionKey, string? RowKey) FilterKeys(string query)
    {
        var partition = FilterPartition().Match(query);
        var row = FilterRow().Match(query);
        return (partition.Success ? Unquote(partition.Groups[1].Value) : null, row.Success ? Unquote(row.Groups[1].Value) : null);
    }

    private static (string? PartitionKey, string? RowKey) BodyKeys(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            return (root.TryGetProperty("PartitionKey", out var pk) ? pk.GetString() : null, root.TryGetProperty("RowKey", out var rk) ? rk.GetString() : null);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    private static string Unquote(string value) => value.Replace("''", "'", StringComparison.Ordinal);

    private static int Occurrences(ReadOnlySpan<byte> text, ReadOnlySpan<byte> needle)
    {
        var count = 0;
        for (int at; (at = text.IndexOf(needle)) >= 0; text = text[(at + needle.Length)..])
        {
            count++;
        }
        return count;
    }

    [GeneratedRegex(@"PartitionKey='((?:[^']|'')*)',RowKey='((?:[^']|'')*)'")]
    private static partial Regex EntityKeys();

    [GeneratedRegex(@"PartitionKey eq '((?:[^']|'')*)'")]
    private static partial Regex FilterPartition();

    [GeneratedRegex(@"RowKey (?:eq|ge|gt) '((?:[^']|'')*)'")]
    private static partial Regex FilterRow();

    // One changeset part: its request line, its headers, and its body up to the next boundary line.
    [GeneratedRegex(@"^(?:POST|PUT|PATCH|MERGE|DELETE|GET) (?<url>\S+) HTTP/1\.1\r?\n(?:[^\r\n]+\r?\n)*\r?\n(?<body>[^\r\n]*)", RegexOptions.Multiline)]
    private static partial Regex BatchPart();
}
