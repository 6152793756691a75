using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace ThreePL.Functions.Storage.Tables;

/// <summary>
/// One table. Shaped like Azure.Data.Tables' <c>TableClient</c> so a later swap is mechanical.
/// Write methods return the raw <see cref="Response"/>; the entity's new version is its <c>ETag</c> header,
/// read with <see cref="TableResponseExtensions.GetETag"/> (or <c>response.Headers.ETag</c>). The passed entity is
/// not modified.
/// </summary>
public sealed class TableClient
{
    private const string JsonContentType = "application/json";
    private const string MinimalMetadata = "application/json;odata=minimalmetadata";

    private static readonly RequestMethod s_merge = new("MERGE");

    private readonly Uri _endpoint;
    private readonly HttpPipeline _pipeline;

    internal TableClient(Uri endpoint, HttpPipeline pipeline, string name)
    {
        _endpoint = endpoint;
        _pipeline = pipeline;
        Name = name;
    }

    public string Name { get; }

    /// <summary>Creates the table; an existing table is not an error (returns the 409 response).</summary>
    public async Task<Response> CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Post, "/Tables");
        SetJsonContent(message.Request, Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, string> { ["TableName"] = Name })));
        message.Request.Headers.Add("Prefer", "return-no-content");
        try
        {
            return await SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return ex.GetRawResponse()!;
        }
    }

    /// <summary>Deletes the table; a missing table is not an error (returns the 404 response).</summary>
    public async Task<Response> DeleteAsync(CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Delete, $"/Tables('{EscapeKey(Name)}')");
        try
        {
            return await SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return ex.GetRawResponse()!;
        }
    }

    /// <exception cref="RequestFailedException">409 <c>EntityAlreadyExists</c> when the keys are taken.</exception>
    public async Task<Response> AddEntityAsync(TableEntity entity, CancellationToken cancellationToken = default)
    {
        var body = TableEntitySerializer.Serialize(entity);
        using var message = CreateMessage(RequestMethod.Post, "/" + Name);
        SetJsonContent(message.Request, body);
        message.Request.Headers.Add("Prefer", "return-no-content");
        return await SendAsync(message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Inserts the entity or overwrites it whatever its version.</summary>
    public async Task<Response> UpsertEntityAsync(TableEntity entity, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default)
    {
        var body = TableEntitySerializer.Serialize(entity);
        using var message = CreateMessage(UpdateMethod(mode), EntityPath(entity.PartitionKey, entity.RowKey));
        SetJsonContent(message.Request, body);
        return await SendAsync(message, cancellationToken).ConfigureAwait(false);
    }

    /// <param name="ifMatch">The version the caller read; <see cref="ETag.All"/> overwrites whatever is stored.
    /// <c>default</c> is refused so that a forgotten ETag cannot silently become an unconditional write.</param>
    /// <exception cref="RequestFailedException">412 <c>UpdateConditionNotSatisfied</c> when the entity changed; 404 when it is gone.</exception>
    public async Task<Response> UpdateEntityAsync(TableEntity entity, ETag ifMatch, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default)
    {
        if (ifMatch == default)
        {
            throw new ArgumentException("Pass the entity's ETag, or ETag.All for an unconditional update.", nameof(ifMatch));
        }

        var body = TableEntitySerializer.Serialize(entity);
        using var message = CreateMessage(UpdateMethod(mode), EntityPath(entity.PartitionKey, entity.RowKey));
        SetJsonContent(message.Request, body);
        message.Request.Headers.Add("If-Match", ifMatch.ToString("H"));
        return await SendAsync(message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes an entity; <paramref name="ifMatch"/> <c>default</c> means unconditional. A missing entity returns
    /// its 404 response instead of throwing: after an Azurite stall the retry of a delete that already succeeded
    /// sees 404, and callers want "gone" either way.
    /// </summary>
    /// <exception cref="RequestFailedException">412 when <paramref name="ifMatch"/> is stale.</exception>
    public async Task<Response> DeleteEntityAsync(string partitionKey, string rowKey, ETag ifMatch = default, CancellationToken cancellationToken = default)
    {
        TableEntitySerializer.ValidateKey(partitionKey, nameof(partitionKey));
        TableEntitySerializer.ValidateKey(rowKey, nameof(rowKey));
        using var message = CreateMessage(RequestMethod.Delete, EntityPath(partitionKey, rowKey));
        message.Request.Headers.Add("If-Match", (ifMatch == default ? ETag.All : ifMatch).ToString("H"));
        try
        {
            return await SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return ex.GetRawResponse()!;
        }
    }

    /// <exception cref="RequestFailedException">404 <c>ResourceNotFound</c> when there is no such entity.</exception>
    public async Task<Response<TableEntity>> GetEntityAsync(string partitionKey, string rowKey, IEnumerable<string>? select = null, CancellationToken cancellationToken = default)
    {
        TableEntitySerializer.ValidateKey(partitionKey, nameof(partitionKey));
        TableEntitySerializer.ValidateKey(rowKey, nameof(rowKey));
        using var message = CreateMessage(RequestMethod.Get, EntityPath(partitionKey, rowKey));
        AppendSelect(message.Request, select);
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        return Response.FromValue(ReadEntity(response), response);
    }

    public async Task<NullableResponse<TableEntity>> GetEntityIfExistsAsync(string partitionKey, string rowKey, IEnumerable<string>? select = null, CancellationToken cancellationToken = default)
    {
        TableEntitySerializer.ValidateKey(partitionKey, nameof(partitionKey));
        TableEntitySerializer.ValidateKey(rowKey, nameof(rowKey));
        using var message = CreateMessage(RequestMethod.Get, EntityPath(partitionKey, rowKey));
        AppendSelect(message.Request, select);
        try
        {
            var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
            return new EntityResponse(ReadEntity(response), response);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return new EntityResponse(null, ex.GetRawResponse()!);
        }
    }

    /// <summary>All entities matching <paramref name="filter"/>, fetched page by page as enumerated.</summary>
    /// <param name="filter">Build it with <see cref="TableFilter.Create"/>; never concatenate input into it.</param>
    public AsyncPageable<TableEntity> QueryAsync(string? filter = null, int? maxPerPage = null, IEnumerable<string>? select = null, CancellationToken cancellationToken = default)
    {
        ValidateMaxPerPage(maxPerPage);
        var selected = select?.ToList();
        return new EntityPageable(this, filter, maxPerPage, selected, cancellationToken);
    }

    /// <summary>
    /// One page of a query, for APIs that hand an opaque cursor to their callers. Pass the returned
    /// token back to continue; null means the query is exhausted. A page may be empty yet have a token.
    /// </summary>
    /// <exception cref="ArgumentException">The continuation token is not one this client issued.</exception>
    public async Task<(IReadOnlyList<TableEntity> Items, string? ContinuationToken)> QueryPageAsync(
        string? filter,
        string? continuationToken,
        int? maxPerPage,
        IEnumerable<string>? select = null,
        CancellationToken cancellationToken = default)
    {
        ValidateMaxPerPage(maxPerPage);
        var (items, next, _) = await QueryPageCoreAsync(filter, continuationToken, maxPerPage, select, cancellationToken).ConfigureAwait(false);
        return (items, next);
    }

    private async Task<(IReadOnlyList<TableEntity> Items, string? ContinuationToken, Response Response)> QueryPageCoreAsync(
        string? filter,
        string? continuationToken,
        int? maxPerPage,
        IEnumerable<string>? select,
        CancellationToken cancellationToken)
    {
        var (nextPartitionKey, nextRowKey) = ContinuationToken.Decode(continuationToken);

        using var message = CreateMessage(RequestMethod.Get, $"/{Name}()");
        var request = message.Request;
        if (!string.IsNullOrEmpty(filter))
        {
            request.Uri.AppendQuery("$filter", Uri.EscapeDataString(filter), escapeValue: false);
        }

        if (maxPerPage is { } top)
        {
            request.Uri.AppendQuery("$top", top.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        AppendSelect(request, select);
        if (nextPartitionKey is not null)
        {
            request.Uri.AppendQuery("NextPartitionKey", Uri.EscapeDataString(nextPartitionKey), escapeValue: false);
        }

        if (nextRowKey is not null)
        {
            request.Uri.AppendQuery("NextRowKey", Uri.EscapeDataString(nextRowKey), escapeValue: false);
        }

        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        using var document = JsonDocument.Parse(response.Content.ToMemory());
        var items = document.RootElement.GetProperty("value").EnumerateArray().Select(TableEntitySerializer.Deserialize).ToList();

        response.Headers.TryGetValue("x-ms-continuation-NextPartitionKey", out var responsePartitionKey);
        response.Headers.TryGetValue("x-ms-continuation-NextRowKey", out var responseRowKey);
        return (items, ContinuationToken.Encode(responsePartitionKey, responseRowKey), response);
    }

    /// <summary>
    /// Commits up to 100 operations on one partition atomically. Returns one response per action, in order;
    /// writes carry the new ETag (<see cref="TableResponseExtensions.GetETag"/>).
    /// </summary>
    /// <exception cref="ArgumentException">Empty, over 100 actions, several partitions, a repeated RowKey, or over 4 MiB.</exception>
    /// <exception cref="TableTransactionFailedException">An action failed; nothing was written.</exception>
    public async Task<IReadOnlyList<Response>> SubmitTransactionAsync(IEnumerable<TableTransactionAction> actions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(actions);
        var list = actions.ToList();
        var batch = TableTransactionBatch.Build(_endpoint, Name, list);

        using var message = CreateMessage(RequestMethod.Post, "/$batch");
        message.Request.Headers.Add("Content-Type", $"multipart/mixed; boundary={batch.Boundary}");
        message.Request.Content = RequestContent.Create(batch.Body);
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);

        var results = TableTransactionBatch.ParseResponse(response);
        var failed = results.FirstOrDefault(r => r.IsError);
        if (failed is not null)
        {
            var (_, errorMessage) = StorageErrorParser.ReadBody(failed);
            throw new TableTransactionFailedException(failed, TableTransactionBatch.ParseFailedIndex(errorMessage, list.Count), StorageErrorParser.Instance);
        }

        if (results.Count != list.Count)
        {
            throw new InvalidOperationException($"The transaction of {list.Count} actions returned {results.Count} responses.");
        }

        return results;
    }

    internal static string EscapeKey(string key) => Uri.EscapeDataString(key.Replace("'", "''", StringComparison.Ordinal));

    internal string EntityPath(string partitionKey, string rowKey) =>
        $"/{Name}(PartitionKey='{EscapeKey(partitionKey)}',RowKey='{EscapeKey(rowKey)}')";

    private HttpMessage CreateMessage(RequestMethod method, string escapedPath)
    {
        var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = method;
        request.Uri.Reset(_endpoint);
        request.Uri.AppendPath(escapedPath, escape: false);
        request.Headers.Add("Accept", MinimalMetadata);
        request.Headers.Add("DataServiceVersion", "3.0");
        request.Headers.Add("MaxDataServiceVersion", "3.0;NetFx");
        return message;
    }

    private static void SetJsonContent(Request request, byte[] body)
    {
        request.Headers.Add("Content-Type", JsonContentType);
        request.Content = RequestContent.Create(body);
    }

    private static void AppendSelect(Request request, IEnumerable<string>? select)
    {
        if (select is null)
        {
            return;
        }

        var names = string.Join(',', select);
        if (names.Length > 0)
        {
            request.Uri.AppendQuery("$select", Uri.EscapeDataString(names), escapeValue: false);
        }
    }

    private static RequestMethod UpdateMethod(TableUpdateMode mode) => mode switch
    {
        TableUpdateMode.Merge => s_merge,
        TableUpdateMode.Replace => RequestMethod.Put,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    private static void ValidateMaxPerPage(int? maxPerPage)
    {
        if (maxPerPage is < 1 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(maxPerPage), maxPerPage, "A page holds 1-1000 entities.");
        }
    }

    private static TableEntity ReadEntity(Response response)
    {
        using var document = JsonDocument.Parse(response.Content.ToMemory());
        var entity = TableEntitySerializer.Deserialize(document.RootElement);
        if (response.Headers.ETag is { } etag)
        {
            entity.ETag = etag;
        }

        return entity;
    }

    private async Task<Response> SendAsync(HttpMessage message, CancellationToken cancellationToken)
    {
        await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        var response = message.Response;
        return response.IsError ? throw new RequestFailedException(response, null, StorageErrorParser.Instance) : response;
    }

    private sealed class EntityPageable(TableClient client, string? filter, int? maxPerPage, IReadOnlyList<string>? select, CancellationToken cancellationToken)
        : AsyncPageable<TableEntity>(cancellationToken)
    {
        public override async IAsyncEnumerable<Page<TableEntity>> AsPages(string? continuationToken = null, int? pageSizeHint = null)
        {
            do
            {
                var (items, next, response) = await client.QueryPageCoreAsync(filter, continuationToken, pageSizeHint ?? maxPerPage, select, CancellationToken).ConfigureAwait(false);
                continuationToken = next;
                yield return Page<TableEntity>.FromValues(items, next, response);
            }
            while (continuationToken is not null);
        }
    }

    /// <summary>
    /// The service's NextPartitionKey/NextRowKey pair as one opaque URL-safe string, so HTTP APIs can hand it
    /// out as a cursor without exposing (or letting callers forge) the key structure.
    /// </summary>
    /// <summary>True when <paramref name="token"/> is a continuation token this client could have issued.</summary>
    public static bool IsWellFormedContinuationToken(string token)
    {
        try
        {
            var (partitionKey, rowKey) = ContinuationToken.Decode(token);
            return !string.IsNullOrEmpty(partitionKey) && !partitionKey.Any(char.IsControl) && (rowKey is null || !rowKey.Any(char.IsControl));
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static class ContinuationToken
    {
        // Keys cannot contain control characters, so a newline separates the two unambiguously.
        private const char Separator = '\n';

        public static string? Encode(string? nextPartitionKey, string? nextRowKey)
        {
            if (string.IsNullOrEmpty(nextPartitionKey))
            {
                return null;
            }

            var text = nextRowKey is null ? nextPartitionKey : nextPartitionKey + Separator + nextRowKey;
            return Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));
        }

        public static (string? NextPartitionKey, string? NextRowKey) Decode(string? token)
        {
            if (string.IsNullOrEmpty(token))
            {
                return (null, null);
            }

            string text;
            try
            {
                text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
            }
            catch (FormatException ex)
            {
                throw new ArgumentException("The continuation token is malformed.", nameof(token), ex);
            }

            var separator = text.IndexOf(Separator, StringComparison.Ordinal);
            return separator < 0 ? (text, null) : (text[..separator], text[(separator + 1)..]);
        }
    }
}
