using ThreePL.Domain.Common;
namespace ThreePL.Functions.Http;

/// <summary>The list shape of the whole API: items and an opaque cursor for the next page.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

public static class Paging
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    /// <summary>
    /// Validates <c>?cursor=</c>: an opaque continuation this API issued. A forged but well-formed one can only
    /// move the start of a query whose filter still names the caller's partition, so it reveals nothing.
    /// </summary>
    public static string? Cursor(string? cursor, FieldErrors errors)
    {
        if (cursor is not null && (cursor.Length > 1024 || !Infrastructure.TableClientExtensions.IsWellFormedCursor(cursor)))
        {
            errors.Add("cursor", "Not a cursor from this API.");
        }
        return cursor;
    }

    /// <summary>Validates <c>?limit=</c>.</summary>
    public static int Limit(int? limit, FieldErrors errors)
    {
        if (limit is < 1 or > MaxLimit)
        {
            errors.Add("limit", $"Must be between 1 and {MaxLimit}.");
        }
        return limit ?? DefaultLimit;
    }
}
