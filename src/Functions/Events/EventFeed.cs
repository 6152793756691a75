using System.Text.Json;
using Azure.Data.Tables;
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
/// </summary>
public sealed class EventFeed(TableServiceClient tables, StorageNames names, PartitionWriter writer, EventViews views, ReconciliationOptions options, TimeProvider time)
{
    public const string TableName = "events";
    private const string AccountPrefix = "t|";
    private const int MaxRekeys = 3;


    public TableClient Table => tables.GetTableClient(names.Table(TableName));

    /// <summary>The account's partition: its catch-up feed and its webhook deliveries.</summary>
    public static string Partition(AccountId account) => "a|" + account.Value;

    private static string ConnectionPrefix(string connectionId) => "c|" + connectionId + "|";

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

    /// <summary>The accounts an event concerns, each once.</summary>
    public static IEnumerable<AccountId> Accounts(EventEnvelope envelope)
    {
        foreach (var accountId in envelope.AccountIds.Distinct(StringComparer.Ordinal))
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

    private List<TableEntity> Rows(EventEnvelope envelope, AccountId account, DateTimeOffset keyTime)
    {
        // The connection's row is what a key scoped to it reads, so it holds the data as that connection sees it.
        var keys = new List<(string Key, JsonElement Data)>
        {
            (TimeKeyedFeed.RowKey(AccountPrefix, keyTime, envelope.Id), views.DataFor(envelope, account, confinedToConnection: false)),
        };
        if (envelope.ConnectionId is { } connectionId)
        {
            keys.Add((TimeKeyedFeed.RowKey(ConnectionPrefix(connectionId), keyTime, envelope.Id), views.DataFor(envelope, account, confinedToConnection: true)));
        }
        return keys.Select(entry =>
        {
            var (key, data) = entry;
            var row = new TableEntity(Partition(account), key)
            {
                ["EventId"] = envelope.Id,
                ["Type"] = envelope.Type,
                ["CreatedAt"] = envelope.CreatedAt,
                ["ConnectionId"] = envelope.ConnectionId,
            };
            LongText.Write(row, "Data", data.GetRawText());
            return row;
        }).ToList();
    }

    /// <summary>
    /// A page of the account's events (of one connection for a scoped caller) from <paramref name="since"/>, in the
    /// order they were recorded, up to the settled horizon.
    /// </summary>
    public async Task<(IReadOnlyList<EventResponse> Items, string? NextCursor)> ListAsync(
        AccountId account, ConnectionId? scope, DateTimeOffset? since, string? cursor, int limit, CancellationToken cancellationToken)
    {
        var prefix = scope is { } s ? ConnectionPrefix(s.Value) : AccountPrefix;
        var (rows, next) = await TimeKeyedFeed.PageAsync(Table, Partition(account), prefix, since, cursor, limit, time.GetUtcNow(), options, cancellationToken).ConfigureAwait(false);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var items = rows.Where(r => seen.Add(r.GetString("EventId")!)).Select(From).ToList();
        return (items, next);
    }

    private static EventResponse From(TableEntity row)
    {
        using var document = JsonDocument.Parse(LongText.Read(row, "Data") ?? "null");
        return new EventResponse(row.GetString("EventId")!, row.GetString("Type")!, row.GetDateTimeOffset("CreatedAt")!.Value, document.RootElement.Clone());
    }
}
