using System.Text.Json;
using Azure.Data.Tables;
using ThreePL.Domain.Accounts;
using ThreePL.Domain.Common;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Events;

/// <summary>What <c>GET /v1/events</c> lists: the envelope a webhook carries, with the same id.</summary>
public sealed record EventResponse(string Id, string Type, DateTimeOffset CreatedAt, JsonElement Data);

/// <summary>
/// Table <c>events</c>: every public event an account was told about, so a receiver that was down can catch up.
/// Partition <c>a|{accountId}</c> (one per account that <see cref="EventEnvelope.AccountIds"/> names, so no other
/// tenant's partition is ever read), rows keyed by time (<see cref="TimeKeyedFeed"/>): <c>t|{ticks}|{eventId}</c>
/// for the account, and <c>c|{connectionId}|{ticks}|{eventId}</c> for a key scoped to that connection. Both rows
/// of an account are one entity-group transaction, shared with the concurrent events of the same account
/// (<see cref="PartitionWriter"/>): at most one write per event per account. The same partition holds the account's
/// webhook deliveries (<see cref="Webhooks.WebhookDeliveryStore"/>), so an account that has a destination for the event
/// gets its rows in the insert of that delivery instead (<see cref="Webhooks.EventDispatcher"/>): no write of their own.
/// A feature may record an account's rows of its events in its own table, in the transaction of the change itself
/// (<see cref="ICommittedFeedShelves"/>; <see cref="EventEnvelope.RecordedFor"/> names those accounts): the reader merges
/// that shelf with this partition in key order.
/// </summary>
public sealed class EventFeed(TableServiceClient tables, StorageNames names, PartitionWriter writer, EventViews views, ReconciliationOptions options, TimeProvider time, IEnumerable<ICommittedFeedShelves> shelves)
{
    public const string TableName = "events";
    private const string AccountPrefix = "t|";
    private const int MaxRekeys = 3;


    public TableClient Table => tables.GetTableClient(names.Table(TableName));

    /// <summary>The account's partition: its catch-up feed and its webhook deliveries.</summary>
    public static string Partition(AccountId account) => "a|" + account.Value;

    private FeedShelf Shelf(AccountId account) => new(Table, Partition(account), AccountPrefix, "c|");

    /// <summary>
    /// Records the event for every account it concerns. Idempotent for a redelivered message that arrives in time
    /// (same keys, upserted); one that arrives later than the write bound is recorded again under its own time,
    /// which a reader sees as the same event id twice, as a webhook receiver may.
    /// </summary>
    public async Task RecordAsync(EventEnvelope envelope, CancellationToken cancellationToken)
    {
        foreach (var account in Accounts(envelope))
        {
            await RecordAsync(envelope, account, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The accounts an event concerns, each once, except those whose rows its change committed (<see cref="EventEnvelope.RecordedFor"/>).</summary>
    public static IEnumerable<AccountId> Accounts(EventEnvelope envelope)
    {
        foreach (var accountId in envelope.AccountIds.Distinct(StringComparer.Ordinal).Except(envelope.RecordedFor ?? [], StringComparer.Ordinal))
        {
            if (AccountId.TryParse(accountId, out var account))
            {
                yield return account;
            }
        }
    }

    /// <summary>Records the event for one account, with a write of its own.</summary>
    public async Task RecordAsync(EventEnvelope envelope, AccountId account, CancellationToken cancellationToken)
    {
        var keyTime = TimeKeyedFeed.KeyTime(envelope.CreatedAt, time.GetUtcNow(), options);
        await writer.UpsertAsync(Table, Rows(envelope, account, keyTime), cancellationToken).ConfigureAwait(false);
        await RekeyIfLateAsync(envelope, account, keyTime, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The rows that record the event for <paramref name="account"/>, keyed as of now, for a caller that stores them in a
    /// transaction of its own in <see cref="Partition"/>; it calls <see cref="RekeyIfLateAsync"/> with the key time once
    /// they are stored.
    /// </summary>
    public (IReadOnlyList<TableEntity> Rows, DateTimeOffset KeyTime) RowsToRide(EventEnvelope envelope, AccountId account)
    {
        var keyTime = TimeKeyedFeed.KeyTime(envelope.CreatedAt, time.GetUtcNow(), options);
        return (Rows(envelope, account, keyTime), keyTime);
    }

    /// <summary>Writes the rows again under a fresh time while they were stored later than the write bound allows.</summary>
    public async Task RekeyIfLateAsync(EventEnvelope envelope, AccountId account, DateTimeOffset keyTime, CancellationToken cancellationToken)
    {
        for (var rekey = 0; rekey < MaxRekeys && TimeKeyedFeed.WrittenTooLate(keyTime, time.GetUtcNow(), options); rekey++)
        {
            keyTime = time.GetUtcNow();
            await writer.UpsertAsync(Table, Rows(envelope, account, keyTime), cancellationToken).ConfigureAwait(false);
        }
    }

    private List<TableEntity> Rows(EventEnvelope envelope, AccountId account, DateTimeOffset keyTime) =>
        Shelf(account).Rows(envelope, account, views, keyTime);

    /// <summary>
    /// A page of the account's events (of one connection for a scoped caller) from <paramref name="since"/>, in the
    /// order they were recorded, up to the settled horizon: from its partition here and from every shelf a feature keeps
    /// for accounts of its kind, merged by key time. With shelves, the cursor holds one position per source.
    /// </summary>
    public async Task<(IReadOnlyList<EventResponse> Items, string? NextCursor)> ListAsync(
        AccountId account, AccountKind kind, ConnectionId? scope, DateTimeOffset? since, string? cursor, int limit, CancellationToken cancellationToken)
    {
        var sources = shelves.Select(s => s.For(account, kind)).OfType<FeedShelf>().Prepend(Shelf(account))
            .Select(shelf => (Shelf: shelf, Prefix: scope is { } s ? shelf.ConnectionPrefix(s.Value) : shelf.AccountPrefix))
            .ToList();
        var now = time.GetUtcNow();
        if (sources.Count == 1)
        {
            var (rows, nextCursor) = await TimeKeyedFeed.PageAsync(Table, Partition(account), sources[0].Prefix, since, cursor, limit, now, options, cancellationToken).ConfigureAwait(false);
            return (Distinct(rows), nextCursor);
        }
        var positions = (TableClientExtensions.DecodePosition(cursor) ?? "").Split(PositionSeparator);
        var pages = await Task.WhenAll(sources.Select((source, i) => TimeKeyedFeed.PageFromAsync(
            source.Shelf.Table, source.Shelf.Partition, source.Prefix, since, i < positions.Length && positions[i].Length > 0 ? positions[i] : null,
            limit, now, options, cancellationToken))).ConfigureAwait(false);
        // Every source is read up to the same horizon, so the first rows by key time across them are the next page.
        var merged = pages
            .SelectMany((page, i) => page.Rows.Select(row => (Source: i, Row: row, At: TimeKeyedFeed.TimeOf(sources[i].Prefix, row.RowKey))))
            .OrderBy(r => r.At).ThenBy(r => r.Row.GetString("EventId"), StringComparer.Ordinal)
            .Take(limit)
            .ToList();
        var complete = true;
        var next = new string[sources.Count];
        for (var i = 0; i < sources.Count; i++)
        {
            var taken = merged.Where(r => r.Source == i).Select(r => r.Row.RowKey).ToList();
            next[i] = taken.Count > 0 ? taken[^1] : i < positions.Length ? positions[i] : "";
            complete &= pages[i].Complete && taken.Count == pages[i].Rows.Count;
        }
        return (Distinct(merged.Select(r => r.Row)), complete ? null : TableClientExtensions.EncodePosition(string.Join(PositionSeparator, next)));
    }

    /// <summary>Separates the sources' positions in a cursor; no row key contains it.</summary>
    private const char PositionSeparator = ' ';

    private static List<EventResponse> Distinct(IEnumerable<TableEntity> rows)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return rows.Where(r => seen.Add(r.GetString("EventId")!)).Select(From).ToList();
    }

    private static EventResponse From(TableEntity row)
    {
        using var document = JsonDocument.Parse(LongText.Read(row, "Data") ?? "null");
        return new EventResponse(row.GetString("EventId")!, row.GetString("Type")!, row.GetDateTimeOffset("CreatedAt")!.Value, document.RootElement.Clone());
    }
}
