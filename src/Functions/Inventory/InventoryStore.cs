using System.Text;
using Azure.Data.Tables;
using ThreePL.Domain.Common;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Orders;

namespace ThreePL.Functions.Inventory;

/// <summary>One reported stock count: what a 3PL holds of a SKU for one connection, and when it said so.</summary>
public sealed record InventoryItem(string Sku, long OnHand, ConnectionId ConnectionId, AccountId ThreePlAccountId, AccountId MerchantAccountId, DateTimeOffset ReportedAt);

/// <summary>
/// Table <c>inventory</c>: one partition per connection, <c>c|{connectionId}</c>, RowKey the encoded SKU. The
/// connection is the unit of every question asked of inventory: the 3PL reports per connection, routing asks
/// "does this connection stock these SKUs" (point reads), the merchant and the 3PL read one connection's
/// partition at a time. There is one copy only, so nothing can disagree; a report of up to 500 items is 5
/// entity-group transactions of 100 upserts in that one partition.
/// </summary>
public sealed class InventoryStore(TableServiceClient tables, StorageNames names)
{
    public const string TableName = "inventory";
    private const int BatchSize = 100;

    public TableClient Table => tables.GetTableClient(names.Table(TableName));

    public static string Partition(ConnectionId connection) => "c|" + connection.Value;

    /// <summary>
    /// A RowKey for any SKU: letters, digits, <c>-</c>, <c>_</c> and <c>.</c> stay as they are, every other
    /// character becomes <c>~</c> and the hex of its UTF-8 bytes. Injective (so two SKUs never share a row) and
    /// free of the characters table keys forbid (<c>/ \ # ?</c>, control characters); 64 characters encode to
    /// at most 768.
    /// </summary>
    public static string RowKey(string sku)
    {
        var builder = new StringBuilder(sku.Length);
        Span<byte> bytes = stackalloc byte[4];
        foreach (var rune in sku.EnumerateRunes())
        {
            if (rune.IsAscii && (char.IsAsciiLetterOrDigit((char)rune.Value) || rune.Value is '-' or '_' or '.'))
            {
                builder.Append((char)rune.Value);
                continue;
            }
            var length = rune.EncodeToUtf8(bytes);
            foreach (var b in bytes[..length])
            {
                builder.Append('~').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return builder.ToString();
    }

    /// <summary>Upserts every item (last report wins per SKU), 100 per transaction.</summary>
    public async Task ReportAsync(ConnectionId connection, AccountId threePl, AccountId merchant, IReadOnlyList<(string Sku, long OnHand)> items, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var partition = Partition(connection);
        foreach (var chunk in items.Chunk(BatchSize))
        {
            var actions = chunk.Select(i => new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(partition, RowKey(i.Sku))
            {
                ["Sku"] = i.Sku,
                ["OnHand"] = i.OnHand,
                ["ConnectionId"] = connection.Value,
                ["ThreePlAccountId"] = threePl.Value,
                ["MerchantAccountId"] = merchant.Value,
                ["ReportedAt"] = now,
            }));
            await Table.CommitAsync(actions, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<InventoryItem?> GetAsync(ConnectionId connection, string sku, CancellationToken cancellationToken)
    {
        var row = await Table.FindAsync(Partition(connection), RowKey(sku), cancellationToken).ConfigureAwait(false);
        return row is null ? null : FromEntity(row);
    }

    /// <summary>One page of a connection's counts, in RowKey order; the token is the table's continuation.</summary>
    public async Task<(IReadOnlyList<InventoryItem> Items, string? ContinuationToken)> ListAsync(ConnectionId connection, string? continuation, int limit, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition(connection)}");
        var page = await Table.QueryPageAsync(filter, continuation, limit, cancellationToken: cancellationToken).ConfigureAwait(false);
        return (page.Items.Select(FromEntity).ToList(), page.ContinuationToken);
    }

    private static InventoryItem FromEntity(TableEntity row) => new(
        row.GetString("Sku")!,
        row.GetInt64("OnHand") ?? 0,
        ConnectionId.Parse(row.GetString("ConnectionId")!),
        AccountId.Parse(row.GetString("ThreePlAccountId")!),
        AccountId.Parse(row.GetString("MerchantAccountId")!),
        row.GetDateTimeOffset("ReportedAt") ?? default);
}

/// <summary>
/// What routing's <c>stocksEveryLine</c> rule asks: a connection stocks an order when its 3PL reported, for
/// every line's SKU, an on-hand count of at least the line's quantity. A SKU never reported counts as 0.
/// One point read per line, in parallel (an order has at most 250 lines).
/// </summary>
public sealed class InventoryLookup(InventoryStore store) : IInventoryLookup
{
    public async Task<bool> StocksEveryLineAsync(ConnectionId connection, IReadOnlyList<OrderLine> lines, CancellationToken cancellationToken)
    {
        var counts = await Task.WhenAll(lines.Select(l => store.GetAsync(connection, l.Sku, cancellationToken))).ConfigureAwait(false);
        return lines.Count > 0 && lines.Zip(counts).All(p => p.Second is { } item && string.Equals(item.Sku, p.First.Sku, StringComparison.Ordinal) && item.OnHand >= p.First.Quantity);
    }
}
