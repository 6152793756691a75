using ThreePL.Domain.Common;
namespace ThreePL.Functions.Http;

/// <summary>The list shape of the whole API: items and an opaque cursor for the next page.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

public static class Paging
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    /// <summary>Validates <c>?limit=</c> and <c>?cursor=</c>; the cursor's content is the store's business.</summary>
    public static int Limit(int? limit, FieldErrors errors)
    {
        if (limit is < 1 or > MaxLimit)
        {
            errors.Add("limit", $"Must be between 1 and {MaxLimit}.");
        }
        return limit ?? DefaultLimit;
    }
}
