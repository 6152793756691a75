using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Http;
using ThreePL.Functions.Orders;

namespace ThreePL.Functions.Inventory;

public sealed record ReportInventoryRequest(IReadOnlyList<InventoryItemRequest?>? Items);

public sealed record InventoryItemRequest(string? Sku, long? OnHand);

public sealed record ReportInventoryResponse(string ConnectionId, int Count, DateTimeOffset ReportedAt);

/// <summary>
/// <c>PUT /v1/connections/{id}/inventory</c>: the 3PL of the connection reports on-hand counts per SKU. Items not
/// named keep their last count (it is an upsert per SKU, not a replacement of the whole stock list). Only an
/// active or inactive connection takes reports: a pending one has no client yet, a finished one has none anymore.
/// </summary>
public sealed class ReportInventory(ConnectionAccess access, InventoryStore store, TimeProvider time)
{
    public const int MaxItems = 500;
    public const long MaxOnHand = 1_000_000_000;

    public async Task<Results<Ok<ReportInventoryResponse>, ProblemHttpResult>> HandleAsync(Caller caller, string id, ReportInventoryRequest request, CancellationToken cancellationToken)
    {
        var found = await access.FindAsync(caller, id, cancellationToken).ConfigureAwait(false);
        if (found is null)
        {
            return Problems.NotFound("connection");
        }
        var connection = found.Connection;
        if (connection.PartyOf(caller.AccountId) != Party.ThreePl)
        {
            return OrderAccess.WrongParty(Party.ThreePl);
        }
        var errors = new FieldErrors();
        var items = Validate(request, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }
        if (connection.Status is not (ConnectionStatus.Active or ConnectionStatus.Inactive))
        {
            return Problems.Conflict("connection_not_active",
                $"The connection is {ConnectionStatusNames.ToWire(connection.Status)}; inventory is reported for active or inactive connections.",
                new Dictionary<string, object?> { ["currentStatus"] = ConnectionStatusNames.ToWire(connection.Status) });
        }
        var now = time.GetUtcNow();
        await store.ReportAsync(connection.Id, connection.ThreePlAccountId, connection.MerchantAccountId, items, now, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new ReportInventoryResponse(connection.Id.Value, items.Count, now));
    }

    private static List<(string Sku, long OnHand)> Validate(ReportInventoryRequest request, FieldErrors errors)
    {
        var items = new List<(string, long)>();
        if (request.Items is not { } list || list.Count == 0)
        {
            errors.Add("items", $"Give 1 to {MaxItems} items.");
            return items;
        }
        if (list.Count > MaxItems)
        {
            errors.Add("items", $"At most {MaxItems} items per request; send more requests for more SKUs.");
            return items;
        }
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < list.Count; i++)
        {
            var path = $"items[{i}]";
            if (list[i] is not { } item)
            {
                errors.Add(path, "Must not be null.");
                continue;
            }
            if (ValidateSku(errors, path + ".sku", item.Sku) is { } sku)
            {
                if (!seen.TryAdd(sku, i))
                {
                    errors.Add(path + ".sku", $"Duplicates the SKU of items[{seen[sku]}].");
                }
                else if (item.OnHand is { } onHand)
                {
                    items.Add((sku, onHand));
                }
            }
            if (item.OnHand is not { } count)
            {
                errors.Add(path + ".onHand", "This field is required.");
            }
            else if (count is < 0 or > MaxOnHand)
            {
                errors.Add(path + ".onHand", $"Must be an integer from 0 to {MaxOnHand}.");
            }
        }
        return items;
    }

    /// <summary>The same rule as an order line's SKU (1–64 characters, no control characters), so counts and lines match exactly.</summary>
    public static string? ValidateSku(FieldErrors errors, string field, string? sku)
    {
        if (string.IsNullOrWhiteSpace(sku))
        {
            errors.Add(field, "This field is required.");
            return null;
        }
        if (sku.Length > OrderDraft.SkuMaxLength)
        {
            errors.Add(field, $"Must be at most {OrderDraft.SkuMaxLength} characters.");
            return null;
        }
        if (sku.Any(char.IsControl) || sku.Any(char.IsSurrogate) && !IsWellFormed(sku))
        {
            errors.Add(field, "Must not contain control characters or broken Unicode.");
            return null;
        }
        return sku;
    }

    private static bool IsWellFormed(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return false;
            }
        }
        return true;
    }
}
