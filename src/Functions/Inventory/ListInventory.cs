using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Inventory;

public sealed record InventoryItemResponse(string Sku, long OnHand, string ConnectionId, string ThreePlAccountId, string MerchantAccountId, DateTimeOffset ReportedAt)
{
    public static InventoryItemResponse For(InventoryItem item) => new(
        item.Sku, item.OnHand, item.ConnectionId.Value, item.ThreePlAccountId.Value, item.MerchantAccountId.Value, item.ReportedAt);
}

/// <summary>
/// <c>GET /v1/inventory?sku=&amp;connectionId=</c>. A merchant sees the counts its 3PLs reported on its active or
/// inactive connections (what a 3PL reported while connected stays hidden once the connection is pending or over);
/// a 3PL sees what it reported on its own connections; a scoped key sees its connection only. Inventory of a 3PL
/// is therefore invisible to every merchant it does not serve and to every other 3PL: the candidate partitions
/// are the caller's own connections, never a value from the request.
/// With <c>sku</c> the answer is that SKU across the visible connections (one point read each, no paging);
/// without it, a page of one connection at a time, continued by <c>nextCursor</c>.
/// </summary>
public sealed class ListInventory(ConnectionStore connections, InventoryStore store)
{
    private const char CursorSeparator = '~';

    public async Task<Results<Ok<Page<InventoryItemResponse>>, ProblemHttpResult>> HandleAsync(
        Caller caller, string? sku, string? connectionId, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var pageSize = Paging.Limit(limit, errors);
        if (sku is not null)
        {
            sku = ReportInventory.ValidateSku(errors, "sku", sku);
        }
        ConnectionId? only = null;
        if (connectionId is not null)
        {
            if (ConnectionId.TryParse(connectionId, out var parsed))
            {
                only = parsed;
            }
            else
            {
                errors.Add("connectionId", "Must be a connection id.");
            }
        }
        (ConnectionId Connection, string? Token)? position = null;
        if (cursor is not null)
        {
            position = ParseCursor(cursor);
            if (position is null || sku is not null)
            {
                errors.Add("cursor", "Not a cursor from this API.");
            }
        }
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var visible = await VisibleConnectionsAsync(caller, only, cancellationToken).ConfigureAwait(false);
        if (sku is not null)
        {
            var found = await Task.WhenAll(visible.Select(c => store.GetAsync(c, sku, cancellationToken))).ConfigureAwait(false);
            var items = found.Where(i => i is not null && string.Equals(i.Sku, sku, StringComparison.Ordinal)).Select(i => InventoryItemResponse.For(i!)).ToList();
            return TypedResults.Ok(new Page<InventoryItemResponse>(items, null));
        }

        var index = 0;
        string? token = null;
        if (position is { } p)
        {
            index = visible.IndexOf(p.Connection);
            if (index < 0)
            {
                return Problems.Validation("cursor", "Not a cursor from this API.");
            }
            token = p.Token;
        }
        if (index >= visible.Count)
        {
            return TypedResults.Ok(new Page<InventoryItemResponse>([], null));
        }
        (IReadOnlyList<InventoryItem> Items, string? ContinuationToken) page;
        try
        {
            page = await store.ListAsync(visible[index], token, pageSize, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException)
        {
            return Problems.Validation("cursor", "Not a cursor from this API.");
        }
        var next = page.ContinuationToken is { } more ? visible[index].Value + CursorSeparator + more
            : index + 1 < visible.Count ? visible[index + 1].Value + CursorSeparator
            : null;
        return TypedResults.Ok(new Page<InventoryItemResponse>(page.Items.Select(InventoryItemResponse.For).ToList(), next));
    }

    /// <summary>The caller's connections whose inventory it may read, sorted by id so a cursor can name a position.</summary>
    private async Task<List<ConnectionId>> VisibleConnectionsAsync(Caller caller, ConnectionId? only, CancellationToken cancellationToken)
    {
        var candidates = new List<ConnectionId>();
        if (caller.Scope is { } scope)
        {
            if (only is null || only == scope)
            {
                candidates.Add(scope);
            }
        }
        else if (only is { } one)
        {
            candidates.Add(one);
        }
        else
        {
            string? next = null;
            do
            {
                var (ids, more) = await connections.ListIdsAsync(caller.AccountId, next, 1000, cancellationToken).ConfigureAwait(false);
                candidates.AddRange(ids);
                next = more;
            }
            while (next is not null);
        }
        var rows = await Task.WhenAll(candidates.Distinct().Select(id => connections.GetAsync(id, cancellationToken))).ConfigureAwait(false);
        return rows
            .Where(r => r is not null && r.Connection.PartyOf(caller.AccountId) switch
            {
                Party.ThreePl => true,
                Party.Merchant => r.Connection.Status is ConnectionStatus.Active or ConnectionStatus.Inactive,
                _ => false,
            })
            .Select(r => r!.Connection.Id)
            .OrderBy(id => id.Value, StringComparer.Ordinal)
            .ToList();
    }

    private static (ConnectionId, string?)? ParseCursor(string cursor)
    {
        if (cursor.Length > 1024)
        {
            return null;
        }
        var separator = cursor.IndexOf(CursorSeparator, StringComparison.Ordinal);
        if (separator < 0 || !ConnectionId.TryParse(cursor[..separator], out var connection))
        {
            return null;
        }
        var token = cursor[(separator + 1)..];
        return (connection, token.Length == 0 ? null : token);
    }
}
