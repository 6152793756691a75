using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using ThreePL.Domain.Common;
using ThreePL.Functions.Events;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Webhooks;

public static class DeliveryStatus
{
    public const string Pending = "pending";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";

    public static readonly string[] All = [Pending, Succeeded, Failed];
}

/// <summary>One event for one destination. <see cref="Body"/> is fixed at fan-out, so every attempt sends the same bytes.</summary>
public sealed record WebhookDelivery(
    string Id,
    string EventId,
    string EventType,
    DateTimeOffset EventCreatedAt,
    string Body,
    string Destination,
    AccountId OwnerAccountId,
    string? ConnectionId,
    string Status,
    int Attempts,
    int RoundStart,
    DateTimeOffset? NextAttemptAt,
    int? LastStatusCode,
    DateTimeOffset? LastAttemptAt,
    string? FailureReason,
    ETag ETag)
{
    /// <summary>The attempt a worker has claimed and is sending now, until <see cref="InFlightUntil"/>.</summary>
    public int? InFlightAttempt { get; init; }

    public DateTimeOffset? InFlightUntil { get; init; }

    /// <summary>
    /// Stored in the layout of releases before December 2026 (its own partition, plus a separate log row): such a
    /// delivery keeps being read, claimed, committed and listed where it is (<see cref="WebhookDeliveryStore"/>).
    /// </summary>
    public bool Legacy { get; init; }

    /// <summary>
    /// Rows of the owner's partition that commit with the delivery's insert, and only with it: the catch-up feed rows
    /// of the event for the owner (<see cref="EventFeed.RowsToRide"/>), which then need no write of their own.
    /// </summary>
    public IReadOnlyList<TableEntity> InsertWith { get; init; } = [];
}

public sealed record WebhookAttempt(int Number, DateTimeOffset At, string Url, int? StatusCode, long LatencyMs, string? Response, string? Error);

/// <summary>A delivery as its owner's log lists it: its state and every attempt, oldest attempt first.</summary>
public sealed record DeliveryLogEntry(WebhookDelivery Delivery, IReadOnlyList<WebhookAttempt> Attempts);

/// <summary>
/// The deliveries, each in its owner's partition of table <c>events</c>, <c>a|{ownerAccountId}</c> (the account whose
/// destination it goes to), next to the owner's catch-up feed (<see cref="EventFeed"/>), whose rows for the event ride
/// in the delivery's insert (<see cref="WebhookDelivery.InsertWith"/>). Its RowKeys (<c>dlv_…</c>) sort apart from the
/// feed's (<c>c|…</c>, <c>t|…</c>):
/// <list type="bullet">
/// <item>RowKey <c>{deliveryId}</c>: the delivery (state, body). The delivery id is <c>dlv_</c>, 9 characters of
/// inverted event time (milliseconds) and 11 of a hash of (event id, destination): the same event and destination
/// always give the same id, which makes fan-out idempotent, and RowKey order is the log's order, newest first, so the
/// owner's log is this partition read in order, status included, with no row of its own to write.</item>
/// <item>RowKey <c>{deliveryId}|attempt|{n:D5}</c>: one row per attempt, sorted right after its delivery (<c>|</c>
/// follows every id character), so one range query returns deliveries with their attempts. An attempt row and the
/// state change it causes commit in one entity-group transaction; a first attempt is its delivery's only write.</item>
/// <item>Legacy (written before December 2026), kept working without a migration, in <see cref="WebhookTable"/>:
/// partition <c>{deliveryId}</c> with RowKey <c>delivery</c> and <c>attempt|{n:D5}</c>, and a log row
/// <c>{inverted ticks D19}|{deliveryId}</c> in partition <c>deliveries|{ownerAccountId}</c>. A lookup by id reads the
/// new key first and the legacy key only on a miss; the log lists the new rows, then the legacy log rows.</item>
/// </list>
/// Lookups by id alone always know the owner: the caller of the HTTP API is the owner (another tenant's id is simply
/// not in its partition), and delivery messages carry it (<see cref="DeliveryMessage.OwnerAccountId"/>).
/// </summary>
public sealed class WebhookDeliveryStore(WebhookTable table, TableServiceClient tables, StorageNames names)
{
    private const string IdPrefix = "dlv_";

    /// <summary>The first RowKey after every delivery id and its attempts (<c>`</c> follows <c>_</c>).</summary>
    private const string AfterIds = "dlv`";

    private const string AttemptInfix = "|attempt|";
    private const string LegacyDeliveryRowKey = "delivery";
    private const string LegacyAttemptPrefix = "attempt|";
    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

    /// <summary>45 bits of milliseconds since 1970 last until the year 3084.</summary>
    private const int TimeChars = 9;

    private const long MaxTime = (1L << (5 * TimeChars)) - 1;

    /// <summary>Table <c>events</c>: the owner's partition holds its catch-up feed too (<see cref="EventFeed"/>).</summary>
    private TableClient Table => tables.GetTableClient(names.Table(EventFeed.TableName));

    /// <summary>Table <c>webhooks</c>: deliveries of the legacy layout and their log rows.</summary>
    private TableClient LegacyTable => table.Client;

    private TableClient TableFor(WebhookDelivery d) => d.Legacy ? LegacyTable : Table;

    /// <summary>
    /// The id of the delivery of event <paramref name="eventId"/> to <paramref name="destination"/>. The alphabet is in
    /// ordinal order, so a later <paramref name="eventCreatedAt"/> gives a smaller id.
    /// </summary>
    public static string DeliveryId(string eventId, DateTimeOffset eventCreatedAt, string destination)
    {
        Span<char> chars = stackalloc char[Identifier.RandomLength];
        WriteTime(MaxTime - Math.Clamp(eventCreatedAt.ToUnixTimeMilliseconds(), 0, MaxTime), chars[..TimeChars]);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(eventId + "|" + destination));
        for (var i = TimeChars; i < chars.Length; i++)
        {
            chars[i] = Alphabet[hash[i] & 31];
        }
        return string.Concat(IdPrefix, chars);
    }

    private static void WriteTime(long value, Span<char> chars)
    {
        for (var i = chars.Length - 1; i >= 0; i--)
        {
            chars[i] = Alphabet[(int)(value & 31)];
            value >>= 5;
        }
    }

    private static string OwnerPartition(AccountId owner) => EventFeed.Partition(owner);

    private static string LegacyLogPartition(AccountId owner) => $"deliveries|{owner.Value}";

    private static string LegacyLogRowKey(DateTimeOffset at, string deliveryId) =>
        (DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + "|" + deliveryId;

    private static (string PartitionKey, string RowKey) KeyOf(WebhookDelivery d) =>
        d.Legacy ? (d.Id, LegacyDeliveryRowKey) : (OwnerPartition(d.OwnerAccountId), d.Id);

    private static string AttemptPrefix(WebhookDelivery d) => d.Legacy ? LegacyAttemptPrefix : d.Id + AttemptInfix;

    /// <summary>
    /// Creates the delivery; an existing delivery (a re-run fan-out) is returned as it is, with Created false.
    /// </summary>
    public async Task<(WebhookDelivery Delivery, bool Created)> CreateDeliveryAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        try
        {
            var response = await Table.AddEntityAsync(ToEntity(delivery), cancellationToken).ConfigureAwait(false);
            return (delivery with { ETag = response.Headers.ETag ?? default }, true);
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status409Conflict)
        {
            var existing = await GetDeliveryAsync(delivery.OwnerAccountId, delivery.Id, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Delivery {delivery.Id} conflicted but cannot be read.");
            return (existing, false);
        }
    }

    /// <summary>
    /// The delivery from its owner's partition, or on a miss from the legacy layout (one more read, which only a
    /// legacy delivery or an id that exists nowhere costs). Without an owner (a message sent before messages carried
    /// one, which can only name a legacy delivery) only the legacy layout is read. The caller checks who owns a
    /// legacy delivery.
    /// </summary>
    public async Task<WebhookDelivery?> GetDeliveryAsync(AccountId? owner, string deliveryId, CancellationToken cancellationToken)
    {
        if (owner is { } account && await Table.FindAsync(OwnerPartition(account), deliveryId, cancellationToken).ConfigureAwait(false) is { } row)
        {
            return DeliveryFrom(row);
        }
        var legacy = await LegacyTable.FindAsync(deliveryId, LegacyDeliveryRowKey, cancellationToken).ConfigureAwait(false);
        return legacy is null ? null : DeliveryFrom(legacy);
    }

    /// <summary>
    /// Claims attempt <paramref name="number"/> for this worker until <paramref name="until"/>; null when the
    /// delivery changed since it was read (another worker claimed or recorded it).
    /// </summary>
    public async Task<ETag?> TryClaimAttemptAsync(WebhookDelivery delivery, int number, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var (partitionKey, rowKey) = KeyOf(delivery);
        var claim = new TableEntity(partitionKey, rowKey) { ["InFlightAttempt"] = number, ["InFlightUntil"] = until };
        try
        {
            return (await TableFor(delivery).UpdateEntityAsync(claim, delivery.ETag, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false)).GetETag();
        }
        catch (RequestFailedException ex) when (ex.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status404NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// The new state and the attempt that caused it, in one transaction under the delivery's ETag; a delivery without
    /// one (a first attempt made before anything was stored) is inserted, and a conflict (409) means another copy of
    /// the work stored it first. Both rows are in the delivery's partition, whichever layout it has.
    /// </summary>
    public async Task<ETag> CommitAttemptAsync(WebhookDelivery updated, WebhookAttempt? attempt, CancellationToken cancellationToken)
    {
        var actions = new List<TableTransactionAction>
        {
            updated.ETag == default
                ? new(TableTransactionActionType.Add, ToEntity(updated))
                : new(TableTransactionActionType.UpdateReplace, ToEntity(updated), updated.ETag),
        };
        if (attempt is not null)
        {
            var row = new TableEntity(KeyOf(updated).PartitionKey, AttemptPrefix(updated) + attempt.Number.ToString("D5", CultureInfo.InvariantCulture))
            {
                ["At"] = attempt.At,
                ["Url"] = attempt.Url,
                ["StatusCode"] = attempt.StatusCode,
                ["LatencyMs"] = attempt.LatencyMs,
                ["Response"] = attempt.Response,
                ["Error"] = attempt.Error,
            };
            if (!updated.Legacy)
            {
                // The log's connection filter runs on the service and must keep a delivery's attempts with it.
                row["ConnectionId"] = updated.ConnectionId;
            }
            actions.Add(new(TableTransactionActionType.Add, row));
        }
        if (updated.ETag == default)
        {
            actions.AddRange(updated.InsertWith.Select(row => new TableTransactionAction(TableTransactionActionType.UpsertReplace, row)));
        }
        var responses = await TableFor(updated).CommitAsync(actions, cancellationToken).ConfigureAwait(false);
        return responses[0].GetETag();
    }

    public async Task<IReadOnlyList<WebhookAttempt>> ListAttemptsAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        var partitionKey = KeyOf(delivery).PartitionKey;
        var prefix = AttemptPrefix(delivery);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey} and RowKey ge {prefix} and RowKey lt {prefix + "~"}");
        var list = new List<WebhookAttempt>();
        await foreach (var row in TableFor(delivery).QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            list.Add(AttemptFrom(row, prefix.Length));
        }
        return list;
    }

    /// <summary>
    /// A page of the owner's log, newest first: up to <paramref name="limit"/> deliveries with their attempts, optionally
    /// for one connection; <paramref name="since"/> bounds it in time (by event time). The deliveries of the current
    /// layout come in one range query, attempts included; once they run out, the legacy log rows follow, each costing the
    /// reads it always did. The cursor is the RowKey of the next page's first row.
    /// </summary>
    public async Task<(IReadOnlyList<DeliveryLogEntry> Entries, string? Cursor)> ListAsync(
        AccountId owner, string? connectionId, DateTimeOffset? since, string? cursor, int limit, CancellationToken cancellationToken)
    {
        var partition = OwnerPartition(owner);
        var position = TableClientExtensions.DecodePosition(cursor);
        var entries = new List<DeliveryLogEntry>();
        if (position is null || position.StartsWith(IdPrefix, StringComparison.Ordinal))
        {
            var upper = since is { } s ? IdPrefix + TimePrefix(s) + "~" : AfterIds;
            var filter = RangeFilter(partition, position ?? IdPrefix, upper, connectionId);
            WebhookDelivery? current = null;
            var attempts = new List<WebhookAttempt>();
            // Most deliveries succeed at once: a delivery row and one attempt row each, and the next page's first row.
            await foreach (var row in Table.QueryAsync<TableEntity>(filter, Math.Min(1000, 2 * limit + 1), cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                var attemptAt = row.RowKey.IndexOf(AttemptInfix, StringComparison.Ordinal);
                if (attemptAt >= 0)
                {
                    if (current is not null && attemptAt == current.Id.Length && row.RowKey.StartsWith(current.Id, StringComparison.Ordinal))
                    {
                        attempts.Add(AttemptFrom(row, attemptAt + AttemptInfix.Length));
                    }
                    continue;
                }
                if (current is not null)
                {
                    entries.Add(new DeliveryLogEntry(current, attempts));
                    attempts = [];
                }
                if (entries.Count == limit)
                {
                    return (entries, TableClientExtensions.EncodePosition(row.RowKey));
                }
                current = DeliveryFrom(row);
            }
            if (current is not null)
            {
                entries.Add(new DeliveryLogEntry(current, attempts));
            }
            position = "";
        }
        var legacyUpper = since is { } t ? LegacyLogRowKey(t, "~") : IdPrefix;
        var legacyFilter = RangeFilter(LegacyLogPartition(owner), position, legacyUpper, connectionId);
        await foreach (var row in LegacyTable.QueryAsync<TableEntity>(legacyFilter, limit - entries.Count + 1, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (entries.Count == limit)
            {
                return (entries, TableClientExtensions.EncodePosition(row.RowKey));
            }
            // A log row was written before its delivery, which a crash may have kept from being written.
            if (await GetDeliveryAsync(null, row.GetString("DeliveryId")!, cancellationToken).ConfigureAwait(false) is { } delivery && delivery.OwnerAccountId == owner)
            {
                entries.Add(new DeliveryLogEntry(delivery, await ListAttemptsAsync(delivery, cancellationToken).ConfigureAwait(false)));
            }
        }
        return (entries, null);
    }

    private static string RangeFilter(string partition, string from, string upper, string? connectionId) => connectionId is null
        ? TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {from} and RowKey lt {upper}")
        : TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {from} and RowKey lt {upper} and ConnectionId eq {connectionId}");

    /// <summary>The leading id characters of every delivery of an event created at <paramref name="at"/>.</summary>
    private static string TimePrefix(DateTimeOffset at)
    {
        Span<char> chars = stackalloc char[TimeChars];
        WriteTime(MaxTime - Math.Clamp(at.ToUnixTimeMilliseconds(), 0, MaxTime), chars);
        return new string(chars);
    }

    private static WebhookAttempt AttemptFrom(TableEntity row, int numberAt) => new(
        int.Parse(row.RowKey[numberAt..], CultureInfo.InvariantCulture),
        row.GetDateTimeOffset("At")!.Value, row.GetString("Url") ?? "", row.GetInt32("StatusCode"),
        row.GetInt64("LatencyMs") ?? 0, row.GetString("Response"), row.GetString("Error"));

    private static TableEntity ToEntity(WebhookDelivery d)
    {
        var (partitionKey, rowKey) = KeyOf(d);
        var row = new TableEntity(partitionKey, rowKey)
        {
            ["EventId"] = d.EventId,
            ["EventType"] = d.EventType,
            ["EventCreatedAt"] = d.EventCreatedAt,
            ["Destination"] = d.Destination,
            ["OwnerAccountId"] = d.OwnerAccountId.Value,
            ["ConnectionId"] = d.ConnectionId,
            ["Status"] = d.Status,
            ["Attempts"] = d.Attempts,
            ["RoundStart"] = d.RoundStart,
            ["NextAttemptAt"] = d.NextAttemptAt,
            ["LastStatusCode"] = d.LastStatusCode,
            ["LastAttemptAt"] = d.LastAttemptAt,
            ["FailureReason"] = d.FailureReason,
            ["InFlightAttempt"] = d.InFlightAttempt,
            ["InFlightUntil"] = d.InFlightUntil,
        };
        LongText.Write(row, "Body", d.Body);
        return row;
    }

    private static WebhookDelivery DeliveryFrom(TableEntity row)
    {
        var legacy = row.RowKey == LegacyDeliveryRowKey;
        return new WebhookDelivery(
            legacy ? row.PartitionKey : row.RowKey,
            row.GetString("EventId")!,
            row.GetString("EventType")!,
            row.GetDateTimeOffset("EventCreatedAt")!.Value,
            LongText.Read(row, "Body") ?? "",
            row.GetString("Destination")!,
            AccountId.Parse(row.GetString("OwnerAccountId")!),
            row.GetString("ConnectionId"),
            row.GetString("Status")!,
            row.GetInt32("Attempts") ?? 0,
            row.GetInt32("RoundStart") ?? 0,
            row.GetDateTimeOffset("NextAttemptAt"),
            row.GetInt32("LastStatusCode"),
            row.GetDateTimeOffset("LastAttemptAt"),
            row.GetString("FailureReason"),
            row.ETag)
        {
            InFlightAttempt = row.GetInt32("InFlightAttempt"),
            InFlightUntil = row.GetDateTimeOffset("InFlightUntil"),
            Legacy = legacy,
        };
    }
}
