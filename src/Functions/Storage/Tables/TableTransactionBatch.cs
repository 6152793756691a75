using System.Globalization;
using System.Text;
using Azure;
using Azure.Core;

namespace ThreePL.Functions.Storage.Tables;

/// <summary>
/// The multipart/mixed body of an entity-group transaction, in the exact shape both Azure and Azurite's
/// regex-based parser accept: CRLF everywhere, absolute sub-request URLs, one-line JSON bodies.
/// </summary>
internal static class TableTransactionBatch
{
    internal const int MaxActions = 100;
    internal const int MaxPayloadBytes = 4 * 1024 * 1024;

    private const string Crlf = "\r\n";

    public static (string Boundary, byte[] Body) Build(Uri endpoint, string tableName, IReadOnlyList<TableTransactionAction> actions)
    {
        Validate(actions);

        var batchBoundary = "batch_" + Guid.NewGuid().ToString("D");
        var changesetBoundary = "changeset_" + Guid.NewGuid().ToString("D");
        var tableUrl = endpoint.AbsoluteUri.TrimEnd('/') + "/" + tableName;

        var body = new StringBuilder();
        body.Append("--").Append(batchBoundary).Append(Crlf);
        body.Append("Content-Type: multipart/mixed; boundary=").Append(changesetBoundary).Append(Crlf);
        body.Append(Crlf);

        for (var index = 0; index < actions.Count; index++)
        {
            var action = actions[index];
            var entity = action.Entity;
            var entityUrl = $"{tableUrl}(PartitionKey='{TableClient.EscapeKey(entity.PartitionKey)}',RowKey='{TableClient.EscapeKey(entity.RowKey)}')";
            var etag = action.ETag == default ? entity.ETag : action.ETag;
            var (method, url, ifMatch, json) = action.ActionType switch
            {
                TableTransactionActionType.Add => ("POST", tableUrl, null, Json(entity)),
                TableTransactionActionType.UpdateMerge => ("MERGE", entityUrl, RequireETag(etag, index), Json(entity)),
                TableTransactionActionType.UpdateReplace => ("PUT", entityUrl, RequireETag(etag, index), Json(entity)),
                TableTransactionActionType.UpsertMerge => ("MERGE", entityUrl, null, Json(entity)),
                TableTransactionActionType.UpsertReplace => ("PUT", entityUrl, null, Json(entity)),
                TableTransactionActionType.Delete => ("DELETE", entityUrl, (etag == default ? ETag.All : etag).ToString("H"), null),
                _ => throw new ArgumentException($"Action {index} has unknown type {action.ActionType}.", nameof(actions)),
            };

            body.Append("--").Append(changesetBoundary).Append(Crlf);
            body.Append("Content-Type: application/http").Append(Crlf);
            body.Append("Content-Transfer-Encoding: binary").Append(Crlf);
            body.Append(Crlf);
            body.Append(method).Append(' ').Append(url).Append(" HTTP/1.1").Append(Crlf);
            body.Append("Accept: application/json;odata=minimalmetadata").Append(Crlf);
            body.Append("Content-ID: ").Append(index.ToString(CultureInfo.InvariantCulture)).Append(Crlf);
            body.Append("DataServiceVersion: 3.0").Append(Crlf);
            if (ifMatch is not null)
            {
                body.Append("If-Match: ").Append(ifMatch).Append(Crlf);
            }

            body.Append("Prefer: return-no-content").Append(Crlf);
            body.Append("Content-Type: application/json").Append(Crlf);
            body.Append(Crlf);
            if (json is not null)
            {
                body.Append(json);
            }

            body.Append(Crlf);
        }

        body.Append("--").Append(changesetBoundary).Append("--").Append(Crlf);
        body.Append("--").Append(batchBoundary).Append("--").Append(Crlf);

        var bytes = Encoding.UTF8.GetBytes(body.ToString());
        if (bytes.Length > MaxPayloadBytes)
        {
            throw new ArgumentException($"The transaction is {bytes.Length} bytes; the limit is 4 MiB.", nameof(actions));
        }

        return (batchBoundary, bytes);
    }

    public static List<Response> ParseResponse(Response response)
    {
        var text = response.Content.ToString();
        var results = new List<Response>();
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        for (var i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("HTTP/1.1 ", StringComparison.Ordinal))
            {
                continue;
            }

            var statusParts = lines[i].Split(' ', 3);
            var status = int.Parse(statusParts[1], CultureInfo.InvariantCulture);
            var reason = statusParts.Length > 2 ? statusParts[2] : string.Empty;

            var headers = new List<HttpHeader>();
            for (i++; i < lines.Length && lines[i].Length > 0; i++)
            {
                var colon = lines[i].IndexOf(':');
                if (colon > 0)
                {
                    headers.Add(new HttpHeader(lines[i][..colon].Trim(), lines[i][(colon + 1)..].Trim()));
                }
            }

            var partBody = new StringBuilder();
            for (i++; i < lines.Length && !lines[i].StartsWith("--", StringComparison.Ordinal); i++)
            {
                partBody.Append(lines[i]).Append('\n');
            }

            i--;
            results.Add(new BufferedResponse(status, reason, headers, Encoding.UTF8.GetBytes(partBody.ToString().Trim()), response.ClientRequestId));
        }

        return results;
    }

    /// <summary>The service prefixes the failing operation's error message with its index: <c>"2:The update condition…"</c>.</summary>
    public static int? ParseFailedIndex(string? errorMessage, int actionCount)
    {
        if (errorMessage is null)
        {
            return null;
        }

        var colon = errorMessage.IndexOf(':');
        return colon > 0
            && int.TryParse(errorMessage.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            && index < actionCount
                ? index
                : null;
    }

    private static void Validate(IReadOnlyList<TableTransactionAction> actions)
    {
        if (actions.Count is 0 or > MaxActions)
        {
            throw new ArgumentException($"A transaction holds 1-{MaxActions} actions, not {actions.Count}.", nameof(actions));
        }

        if (actions.Any(a => a is null || a.Entity is null))
        {
            throw new ArgumentException("Transaction actions and their entities must not be null.", nameof(actions));
        }

        // Azurite commits cross-partition batches that Azure rejects; checking here keeps local runs honest.
        var partitionKey = actions[0].Entity.PartitionKey;
        if (actions.Any(a => !string.Equals(a.Entity.PartitionKey, partitionKey, StringComparison.Ordinal)))
        {
            throw new ArgumentException("All actions of a transaction must share one PartitionKey.", nameof(actions));
        }

        var duplicate = actions.GroupBy(a => a.Entity.RowKey, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"RowKey '{duplicate.Key}' appears more than once in the transaction.", nameof(actions));
        }

        foreach (var action in actions.Where(a => a.ActionType == TableTransactionActionType.Delete))
        {
            TableEntitySerializer.ValidateKey(action.Entity.PartitionKey, "PartitionKey");
            TableEntitySerializer.ValidateKey(action.Entity.RowKey, "RowKey");
        }
    }

    private static string Json(TableEntity entity) => Encoding.UTF8.GetString(TableEntitySerializer.Serialize(entity));

    private static string RequireETag(ETag etag, int index) =>
        etag == default
            ? throw new ArgumentException($"Update action {index} has no ETag; pass ETag.All to overwrite unconditionally.", "actions")
            : etag.ToString("H");
}
