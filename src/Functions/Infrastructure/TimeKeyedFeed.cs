using System.Globalization;
using Azure.Data.Tables;

namespace ThreePL.Functions.Infrastructure;

public sealed record ReconciliationOptions
{
    /// <summary>
    /// How far behind "now" the reconciliation feeds stop reading. A feed row is keyed by a time read on the
    /// writer's clock just before it writes; rows keyed inside this window may still be in flight, so no cursor
    /// is ever handed out inside it. Half of it bounds how late a row may be written (a later write re-keys the
    /// row to its own time, see <see cref="TimeKeyedFeed.KeyTime"/>); the other half covers clock skew between
    /// instances (a quarter each for the writer's and the reader's clock).
    /// </summary>
    public TimeSpan SettleWindow { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest a row may take from its key time to being stored before it must be re-keyed.</summary>
    public TimeSpan MaxWriteDelay => SettleWindow / 2;

    public static ReconciliationOptions FromConfiguration(IConfiguration configuration) => new()
    {
        SettleWindow = configuration.GetValue<TimeSpan?>("ThreePL:Reconciliation:SettleWindow") ?? TimeSpan.FromSeconds(10),
    };
}

/// <summary>
/// The mechanics shared by the reconciliation feeds (<c>GET /v1/orders?updatedSince=</c>, <c>GET /v1/events</c>):
/// rows keyed <c>{prefix}{UTC ticks:D19}|{id}</c> inside a caller's partition, read in key order from a position
/// up to a settled horizon. Two rules make a reader that pages while writers write miss nothing
/// (docs/orders-storage.md, "Reconciliation", has the argument):
/// <list type="number">
/// <item>A writer keys a row by a time at most <see cref="ReconciliationOptions.MaxWriteDelay"/> before the row is
/// stored; when the write took longer, it writes the row again under a fresh time.</item>
/// <item>A reader never reads, and so never hands out a cursor, past <c>now − SettleWindow</c>.</item>
/// </list>
/// So every row stored after a page was read has a key beyond that page's horizon, and the cursor (the last key
/// read, never a service continuation that could point past the horizon) cannot have passed it.
/// </summary>
public static class TimeKeyedFeed
{
    public static string Ticks(DateTimeOffset time) => time.UtcTicks.ToString("D19", CultureInfo.InvariantCulture);

    public static string RowKey(string prefix, DateTimeOffset time, string id) => prefix + Ticks(time) + "|" + id;

    /// <summary>The key time of a row written by <see cref="RowKey"/> under <paramref name="prefix"/>.</summary>
    public static DateTimeOffset TimeOf(string prefix, string rowKey) =>
        new(long.Parse(rowKey.AsSpan(prefix.Length, 19), NumberStyles.None, CultureInfo.InvariantCulture), TimeSpan.Zero);

    /// <summary>
    /// The key time for a row about something that happened at <paramref name="happenedAt"/>: that time, so the feed
    /// is in the order things happened; but no earlier than half the write bound before now, which leaves the write
    /// itself the other half. A row recorded late therefore sorts by when it was recorded.
    /// </summary>
    public static DateTimeOffset KeyTime(DateTimeOffset happenedAt, DateTimeOffset now, ReconciliationOptions options)
    {
        var earliest = now - (options.MaxWriteDelay / 2);
        return happenedAt > earliest ? happenedAt : earliest;
    }

    /// <summary>True when a row keyed at <paramref name="keyTime"/> and stored by <paramref name="storedBy"/> must be written again under a fresh time.</summary>
    public static bool WrittenTooLate(DateTimeOffset keyTime, DateTimeOffset storedBy, ReconciliationOptions options) =>
        storedBy - keyTime > options.MaxWriteDelay;

    /// <summary>
    /// One page of rows under <paramref name="prefix"/> from <paramref name="since"/> (or the cursor's position) up to the
    /// settled horizon, in key order. The next cursor is the last key read; null means the horizon was reached.
    /// </summary>
    public static async Task<(IReadOnlyList<TableEntity> Rows, string? NextCursor)> PageAsync(
        TableClient table, string partition, string prefix, DateTimeOffset? since, string? cursor, int limit,
        DateTimeOffset now, ReconciliationOptions options, CancellationToken cancellationToken)
    {
        var page = await PageFromAsync(table, partition, prefix, since, TableClientExtensions.DecodePosition(cursor), limit, now, options, cancellationToken).ConfigureAwait(false);
        return (page.Rows, page.Complete ? null : TableClientExtensions.EncodePosition(page.Position));
    }

    /// <summary>
    /// One page of rows under <paramref name="prefix"/> after the key <paramref name="after"/> (or from <paramref name="since"/>)
    /// up to the settled horizon, in key order: <c>Position</c> is the last key read (or where reading started), and
    /// <c>Complete</c> says that every row up to the horizon was read.
    /// </summary>
    public static async Task<(IReadOnlyList<TableEntity> Rows, string Position, bool Complete)> PageFromAsync(
        TableClient table, string partition, string prefix, DateTimeOffset? since, string? after, int limit,
        DateTimeOffset now, ReconciliationOptions options, CancellationToken cancellationToken)
    {
        var horizon = now - options.SettleWindow;
        var from = prefix + (since is { } s ? Ticks(s) : "");
        // A forged position can only move the start inside the caller's own prefix: the bounds below still apply.
        var position = after is not null && string.CompareOrdinal(after, from) > 0 ? after : from;
        var to = prefix + Ticks(horizon) + "}";
        if (string.CompareOrdinal(position, to) >= 0)
        {
            return ([], position, true);
        }
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey gt {position} and RowKey lt {to}");
        var page = await table.QueryPageAsync(filter, null, limit, cancellationToken: cancellationToken).ConfigureAwait(false);
        return (page.Items, page.Items.Count > 0 ? page.Items[^1].RowKey : position, page.Items.Count < limit && page.ContinuationToken is null);
    }
}
