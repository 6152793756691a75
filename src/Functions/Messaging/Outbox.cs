using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Messaging;

public sealed record OutboxOptions
{
    /// <summary>
    /// How long the safety net waits before re-driving a partition's outbox. Long enough that the inline
    /// relay has normally finished (so the re-drive finds nothing), short enough that a crash costs little.
    /// </summary>
    public TimeSpan SafetyNetDelay { get; init; } = TimeSpan.FromSeconds(30);

    public static OutboxOptions FromConfiguration(IConfiguration configuration) => new()
    {
        SafetyNetDelay = configuration.GetValue<TimeSpan?>("ThreePL:Outbox:SafetyNetDelay") ?? TimeSpan.FromSeconds(30),
    };
}

/// <summary>
/// The transactional outbox. A command (1) arms a delayed safety-net message naming its partition,
/// (2) commits its state change together with outbox rows, (3) relays those rows to their queues and
/// deletes them. A crash after (2) leaves rows behind; the safety net, a plain queue message, brings the
/// relay back for exactly that partition, so no sweeper has to scan tables. A crash between sending and
/// deleting re-sends with the same id: consumers de-duplicate by it. Connections use it; order commands carry their
/// messages on the history row instead and send one follow-up message of their own (<c>OrderFollowUps</c>).
/// </summary>
public sealed class Outbox(
    TableServiceClient tables,
    QueueServiceClient queues,
    StorageNames names,
    OutboxOptions options,
    AfterCommit afterCommit,
    ILogger<Outbox> logger)
{
    public const string RowPrefix = "outbox|";
    public const string RelayQueue = "outbox";
    private const string RowPrefixEnd = "outbox}";

    public static TableTransactionAction Add(string partitionKey, OutboxMessage message)
    {
        var row = new TableEntity(partitionKey, RowPrefix + message.Id)
        {
            ["Queue"] = message.Queue,
            ["DelaySeconds"] = (long)message.Delay.TotalSeconds,
        };
        // An event carries the whole order (up to 44 000 bytes), more than one string property holds.
        LongText.Write(row, "Body", message.Body);
        return new(TableTransactionActionType.Add, row);
    }

    /// <summary>
    /// Puts <paramref name="messages"/> on a row the change writes anyway (an order's history row), for a command whose
    /// own queue message (the routing message, or the command's follow-up) is its safety net: no outbox row is written,
    /// so none has to be deleted after the relay, and that message's handler finds them with <see cref="CarriedBy"/>.
    /// </summary>
    public static void Carry(TableEntity row, IReadOnlyCollection<OutboxMessage> messages)
    {
        if (messages.Count == 0)
        {
            return;
        }
        LongText.Write(row, "Messages", JsonSerializer.Serialize(messages.Select(m => new CarriedMessage(m.Id, m.Queue, m.Body, (long)m.Delay.TotalSeconds))));
    }

    /// <summary>The messages <see cref="Carry"/> put on <paramref name="row"/>; none when it carries none.</summary>
    public static IReadOnlyList<OutboxMessage> CarriedBy(TableEntity row)
    {
        if (LongText.Read(row, "Messages") is not { } json)
        {
            return [];
        }
        return (JsonSerializer.Deserialize<List<CarriedMessage>>(json) ?? [])
            .Select(m => new OutboxMessage(m.Id, m.Queue, m.Body, TimeSpan.FromSeconds(m.DelaySeconds))).ToList();
    }

    private sealed record CarriedMessage(string Id, string Queue, string Body, long DelaySeconds);

    /// <summary>Step 1: arm the safety net for <paramref name="partitionKey"/> of table <paramref name="table"/> (a base name).</summary>
    public async Task<ArmedSafetyNet> ArmAsync(string table, string partitionKey, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.Serialize(new RelayRequest(table, partitionKey));
        var receipt = await queues.GetQueueClient(names.Queue(RelayQueue)).SendAfterAsync(body, options.SafetyNetDelay, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new ArmedSafetyNet(receipt.Value.MessageId, receipt.Value.PopReceipt);
    }

    /// <summary>
    /// Takes back a safety net whose command did all its work itself (committed, relayed, followed up, or lost its
    /// commit): its re-drive would find nothing, and deleting it now by the receipt its send returned costs one
    /// operation instead of a receive, a delete and the re-drive's reads. A failure is logged, not thrown: the
    /// safety net then simply runs.
    /// </summary>
    public async Task DisarmAsync(ArmedSafetyNet armed, CancellationToken cancellationToken)
    {
        try
        {
            await queues.GetQueueClient(names.Queue(RelayQueue)).DeleteMessageAsync(armed.MessageId, armed.PopReceipt, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (TransientFailure.Is(ex) || ex is RequestFailedException or OperationCanceledException)
        {
            logger.LogInformation(ex, "Safety net {MessageId} could not be taken back; it will run and find nothing to do", armed.MessageId);
        }
    }

    /// <summary>
    /// Step 3, right after a successful commit. A failure here is logged, not thrown: the change is
    /// committed and the safety net will deliver its messages. True when every message went out.
    /// </summary>
    public Task<bool> RelayAfterCommitAsync(string table, string partitionKey, IReadOnlyCollection<OutboxMessage> messages, CancellationToken cancellationToken) =>
        afterCommit.RelayOutboxAsync(token => RelayCommittedAsync(table, partitionKey, messages, token), cancellationToken);

    private async Task<bool> RelayCommittedAsync(string table, string partitionKey, IReadOnlyCollection<OutboxMessage> messages, CancellationToken cancellationToken)
    {
        if (messages.Count == 0)
        {
            return true;
        }
        try
        {
            await RelayAsync(table, partitionKey, messages, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (TransientFailure.Is(ex) || ex is RequestFailedException or OperationCanceledException)
        {
            logger.LogWarning(ex, "Inline relay of {Count} messages of {Table}/{Partition} failed; the safety net will deliver them", messages.Count, table, partitionKey);
            return false;
        }
    }

    /// <summary>
    /// Sends a message without an outbox row, for a message that goes out before the state it refers to is
    /// written and whose consumer tolerates state that never committed.
    /// </summary>
    public Task SendAsync(OutboxMessage message, CancellationToken cancellationToken) =>
        queues.GetQueueClient(names.Queue(message.Queue)).SendAfterAsync(message.Body, message.Delay, cancellationToken: cancellationToken);

    /// <summary>Whether <paramref name="message"/>'s outbox row is in the partition: its change committed and it is not relayed yet.</summary>
    public async Task<bool> HoldsAsync(string table, string partitionKey, OutboxMessage message, CancellationToken cancellationToken) =>
        await tables.GetTableClient(names.Table(table)).FindAsync(partitionKey, RowPrefix + message.Id, cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>Re-drives whatever outbox rows a partition still holds (the safety net's work).</summary>
    public async Task RelayPendingAsync(string table, string partitionKey, CancellationToken cancellationToken)
    {
        var pending = await ReadPendingAsync(table, partitionKey, cancellationToken).ConfigureAwait(false);
        if (pending.Count > 0)
        {
            logger.LogInformation("Re-driving {Count} outbox messages of {Table}/{Partition}", pending.Count, table, partitionKey);
            await RelayAsync(table, partitionKey, pending, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The outbox rows a partition still holds, oldest first.</summary>
    public async Task<IReadOnlyList<OutboxMessage>> ReadPendingAsync(string table, string partitionKey, CancellationToken cancellationToken)
    {
        var client = tables.GetTableClient(names.Table(table));
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey} and RowKey ge {RowPrefix} and RowKey lt {RowPrefixEnd}");
        var pending = new List<OutboxMessage>();
        await foreach (var row in client.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            pending.Add(new OutboxMessage(
                row.RowKey[RowPrefix.Length..],
                row.GetString("Queue") ?? throw new InvalidOperationException($"Outbox row {row.RowKey} has no queue."),
                LongText.Read(row, "Body") ?? "",
                TimeSpan.FromSeconds(row.GetInt64("DelaySeconds") ?? 0)));
        }
        return pending;
    }

    /// <summary>Deletes relayed rows one by one, which tolerates a concurrent relay of the same rows (a 404 is success here).</summary>
    private async Task DeleteRowsAsync(string table, string partitionKey, IEnumerable<OutboxMessage> messages, CancellationToken cancellationToken)
    {
        var client = tables.GetTableClient(names.Table(table));
        foreach (var message in messages)
        {
            await client.DeleteEntityAsync(partitionKey, RowPrefix + message.Id, ETag.All, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RelayAsync(string table, string partitionKey, IReadOnlyCollection<OutboxMessage> messages, CancellationToken cancellationToken)
    {
        foreach (var message in messages)
        {
            var queueName = names.Queue(message.Queue);
            await queues.GetQueueClient(queueName).SendAfterAsync(message.Body, message.Delay, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        await DeleteRowsAsync(table, partitionKey, messages, cancellationToken).ConfigureAwait(false);
    }

    internal sealed record RelayRequest(string Table, string PartitionKey);

    internal static string NewId(DateTimeOffset now) =>
        now.UtcTicks.ToString("D19", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..12];
}

/// <summary>A safety-net message as its send answered: enough to delete it before it is ever received.</summary>
public sealed record ArmedSafetyNet(string MessageId, string PopReceipt);
