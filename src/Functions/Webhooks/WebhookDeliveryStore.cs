using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using ThreePL.Domain.Common;
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
}

public sealed record WebhookAttempt(int Number, DateTimeOffset At, string Url, int? StatusCode, long LatencyMs, string? Response, string? Error);

/// <summary>
/// The deliveries in <see cref="WebhookTable"/>:
/// <list type="bullet">
/// <item><c>{deliveryId}</c>: RowKey <c>delivery</c> (state, body) and <c>attempt|{n}</c>. Partitioned by
/// delivery, not by destination: an attempt row and the state change it causes commit in one entity-group
/// transaction, and deliveries to the same destination never compete for one partition's throughput.
/// The delivery id is derived from (event id, destination), which makes fan-out idempotent.</item>
/// <item><c>deliveries|{ownerAccountId}</c>, RowKey <c>{inverted ticks}|{deliveryId}</c>: the owner's delivery
/// log, newest first, never changed after insert; status is read from the delivery row.</item>
/// </list>
/// </summary>
public sealed class WebhookDeliveryStore(WebhookTable table, PartitionWriter writer)
{
    private const string DeliveryRowKey = "delivery";
    private const string AttemptPrefix = "attempt|";

    private TableClient Table => table.Client;

    public static string DeliveryId(string eventId, string destination)
    {
        const string alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(eventId + "|" + destination));
        return "dlv_" + string.Concat(hash.Take(Identifier.RandomLength).Select(b => alphabet[b & 31]));
    }

    private static string LogPartition(AccountId account) => $"deliveries|{account.Value}";

    private static string LogRowKey(DateTimeOffset at, string deliveryId) =>
        (DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + "|" + deliveryId;

    /// <summary>
    /// Creates the delivery and its log row; an existing delivery (a re-run fan-out) is returned as it is, with
    /// Created false.
    /// </summary>
    public async Task<(WebhookDelivery Delivery, bool Created)> CreateDeliveryAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        await LogAsync(delivery, cancellationToken).ConfigureAwait(false);
        try
        {
            var response = await Table.AddEntityAsync(ToEntity(delivery), cancellationToken).ConfigureAwait(false);
            return (delivery with { ETag = response.Headers.ETag ?? default }, true);
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status409Conflict)
        {
            var existing = await GetDeliveryAsync(delivery.Id, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Delivery {delivery.Id} conflicted but cannot be read.");
            return (existing, false);
        }
    }

    /// <summary>
    /// Writes the delivery's row in its owner's log. It goes first, before the delivery row: it is immutable and
    /// idempotent, and a delivery must never exist without it. An owner's concurrent deliveries share one transaction
    /// for their log rows.
    /// </summary>
    public Task LogAsync(WebhookDelivery delivery, CancellationToken cancellationToken) =>
        writer.UpsertAsync(Table, [new TableEntity(LogPartition(delivery.OwnerAccountId), LogRowKey(delivery.EventCreatedAt, delivery.Id))
        {
            ["DeliveryId"] = delivery.Id,
            ["Destination"] = delivery.Destination,
            ["ConnectionId"] = delivery.ConnectionId,
            ["EventType"] = delivery.EventType,
        }], cancellationToken);

    public async Task<WebhookDelivery?> GetDeliveryAsync(string deliveryId, CancellationToken cancellationToken)
    {
        var row = await Table.FindAsync(deliveryId, DeliveryRowKey, cancellationToken).ConfigureAwait(false);
        return row is null ? null : DeliveryFrom(row);
    }

    /// <summary>
    /// Claims attempt <paramref name="number"/> for this worker until <paramref name="until"/>; null when the
    /// delivery changed since it was read (another worker claimed or recorded it).
    /// </summary>
    public async Task<ETag?> TryClaimAttemptAsync(WebhookDelivery delivery, int number, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var claim = new TableEntity(delivery.Id, DeliveryRowKey) { ["InFlightAttempt"] = number, ["InFlightUntil"] = until };
        try
        {
            return (await Table.UpdateEntityAsync(claim, delivery.ETag, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false)).GetETag();
        }
        catch (RequestFailedException ex) when (ex.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status404NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// The new state and the attempt that caused it, in one transaction under the delivery's ETag; a delivery without
    /// one (a first attempt made before anything was stored) is inserted, and a conflict (409) means another copy of
    /// the work stored it first.
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
            actions.Add(new(TableTransactionActionType.Add, new TableEntity(updated.Id, AttemptPrefix + attempt.Number.ToString("D5", CultureInfo.InvariantCulture))
            {
                ["At"] = attempt.At,
                ["Url"] = attempt.Url,
                ["StatusCode"] = attempt.StatusCode,
                ["LatencyMs"] = attempt.LatencyMs,
                ["Response"] = attempt.Response,
                ["Error"] = attempt.Error,
            }));
        }
        var responses = await Table.CommitAsync(actions, cancellationToken).ConfigureAwait(false);
        return responses[0].GetETag();
    }

    public async Task<IReadOnlyList<WebhookAttempt>> ListAttemptsAsync(string deliveryId, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {deliveryId} and RowKey ge {AttemptPrefix} and RowKey lt {"attempt}"}");
        var list = new List<WebhookAttempt>();
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            list.Add(new WebhookAttempt(
                int.Parse(row.RowKey[AttemptPrefix.Length..], CultureInfo.InvariantCulture),
                row.GetDateTimeOffset("At")!.Value, row.GetString("Url") ?? "", row.GetInt32("StatusCode"),
                row.GetInt64("LatencyMs") ?? 0, row.GetString("Response"), row.GetString("Error")));
        }
        return list;
    }

    /// <summary>A page of the owner's log (newest first), optionally for one connection; <paramref name="since"/> bounds it in time.</summary>
    public async Task<(IReadOnlyList<string> DeliveryIds, string? Cursor)> ListLogAsync(
        AccountId owner, string? connectionId, DateTimeOffset? since, string? cursor, int limit, CancellationToken cancellationToken)
    {
        var partition = LogPartition(owner);
        var upper = since is { } s ? LogRowKey(s, "~") : "~";
        var filter = connectionId is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey lt {upper}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey lt {upper} and ConnectionId eq {connectionId}");
        var page = await Table.QueryPageAsync(filter, cursor, limit, cancellationToken: cancellationToken).ConfigureAwait(false);
        return (page.Items.Select(e => e.GetString("DeliveryId")!).ToList(), page.ContinuationToken);
    }

    private static TableEntity ToEntity(WebhookDelivery d)
    {
        var row = new TableEntity(d.Id, DeliveryRowKey)
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
        return new WebhookDelivery(
            row.PartitionKey,
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
        };
    }
}
