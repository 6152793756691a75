using System.Buffers.Text;
using System.Text;
using Azure;
using Azure.Data.Tables;

namespace ThreePL.Functions.Infrastructure;

public static class TableClientExtensions
{
    /// <summary>The entity, or null when it does not exist: the stores' usual read.</summary>
    public static async Task<TableEntity?> FindAsync(this TableClient table, string partitionKey, string rowKey, CancellationToken cancellationToken = default)
    {
        var response = await table.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue ? response.Value : null;
    }

    /// <summary>
    /// Commits up to 100 operations on one partition atomically: the only way the app writes a transaction. Azurite
    /// commits a batch that spans partitions, Azure refuses it (<c>CommandsInBatchActOnDifferentPartitions</c>), so
    /// the rule is checked here, before anything is sent, in both.
    /// </summary>
    /// <exception cref="ArgumentException">Empty, over 100 actions, several partitions or a repeated RowKey.</exception>
    /// <exception cref="TableTransactionFailedException">An action failed; nothing was written.</exception>
    public static async Task<IReadOnlyList<Response>> CommitAsync(this TableClient table, IEnumerable<TableTransactionAction> actions, CancellationToken cancellationToken = default)
    {
        var list = actions.ToList();
        TransactionGuard.Check(list);
        var response = await table.SubmitTransactionAsync(list, cancellationToken).ConfigureAwait(false);
        return response.Value;
    }

    /// <summary>The entity's new version from a write response; pass it as <c>ifMatch</c> on the next write.</summary>
    /// <exception cref="InvalidOperationException">The response carries no ETag (a delete, or a 404 from one).</exception>
    public static ETag GetETag(this Response response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.Headers.ETag ?? throw new InvalidOperationException($"The {response.Status} response carries no ETag.");
    }

    /// <summary>
    /// One page of a query for APIs that hand an opaque cursor to their callers. The cursor wraps the service's
    /// continuation so callers can neither read nor build the key structure; null means the query is exhausted.
    /// A page may be empty yet have a cursor.
    /// </summary>
    public static async Task<(IReadOnlyList<TableEntity> Items, string? ContinuationToken)> QueryPageAsync(
        this TableClient table,
        string? filter,
        string? cursor,
        int maxPerPage,
        IEnumerable<string>? select = null,
        CancellationToken cancellationToken = default)
    {
        var pages = table.QueryAsync<TableEntity>(filter, maxPerPage, select, cancellationToken).AsPages(Cursor.Decode(cursor), maxPerPage);
        await foreach (var page in pages.ConfigureAwait(false))
        {
            return (page.Values, Cursor.Encode(page.ContinuationToken));
        }
        return ([], null);
    }
    /// <summary>
    /// Wraps a RowKey position of the API's own (not the service's continuation) as an opaque cursor, for feeds
    /// that must resume after exactly the last row they read.
    /// </summary>
    public static string EncodePosition(string rowKey) => Cursor.Encode(rowKey)!;

    /// <summary>The position <see cref="EncodePosition"/> wrapped, or null for no cursor.</summary>
    public static string? DecodePosition(string? cursor) => Cursor.Decode(cursor);

    /// <summary>True when <paramref name="cursor"/> could be one <see cref="QueryPageAsync"/> issued.</summary>
    public static bool IsWellFormedCursor(string cursor) => Cursor.Decode(cursor, throwOnError: false) is { Length: > 0 } token && !token.Any(char.IsControl);

    private static class Cursor
    {
        public static string? Encode(string? continuation) =>
            string.IsNullOrWhiteSpace(continuation) ? null : Base64Url.EncodeToString(Encoding.UTF8.GetBytes(continuation));

        public static string? Decode(string? cursor, bool throwOnError = true)
        {
            if (string.IsNullOrEmpty(cursor))
            {
                return null;
            }
            try
            {
                return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Base64Url.DecodeFromChars(cursor));
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException)
            {
                return throwOnError ? throw new ArgumentException("The cursor is malformed.", nameof(cursor), ex) : null;
            }
        }
    }
}
