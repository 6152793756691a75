using System.Globalization;
using Azure;
using Azure.Data.Tables;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.SupportTickets;

/// <summary>How a write under contention ended: done, refused by a limit, or still contended after every retry.</summary>
public enum TicketWrite
{
    Done,
    LimitReached,
    Contended,
}

public sealed record TicketMessage(int Number, Party Author, AccountId AuthorAccountId, AccountId? OnBehalfOfAccountId, string Text, DateTimeOffset At);

/// <summary>A carrier support ticket: the order and connection it belongs to, who opened it, and its messages.</summary>
public sealed record SupportTicket(
    TicketId Id,
    OrderId OrderId,
    ConnectionId ConnectionId,
    string Subject,
    Party OpenedBy,
    int MessageCount,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<TicketMessage> Messages,
    ETag ETag);

/// <summary>
/// Table <c>supporttickets</c>. Partitions, and why:
/// <list type="bullet">
/// <item><c>{ticketId}</c>: RowKey <c>ticket</c> (subject, order, connection, message count) and <c>msg|{n:D4}</c>,
/// one immutable row per message. A new message and the count it bumps commit in one transaction under the
/// header's ETag, so two concurrent answers get distinct numbers and the per-ticket limit holds.</item>
/// <item><c>o|{orderId}</c>: RowKey <c>count</c> (tickets opened on the order) and <c>{ticketId}</c> (the order's
/// list). The count and the list row commit together under the count's ETag, which is what bounds tickets per
/// order under concurrency. The list row is written before the ticket; a crash in between leaves a list row
/// without a ticket, which reads skip.</item>
/// </list>
/// </summary>
public sealed class SupportTicketStore(TableServiceClient tables, StorageNames names)
{
    public const string TableName = "supporttickets";
    public const int MaxTicketsPerOrder = 20;
    public const int MaxMessagesPerTicket = 50;
    private const string HeaderRowKey = "ticket";
    private const string CountRowKey = "count";
    private const string MessagePrefix = "msg|";
    private const int MaxAttempts = 25;
    private static readonly DomainError s_limitReached = new("limit_reached", "The limit is reached.");

    public TableClient Table => tables.GetTableClient(names.Table(TableName));

    private static string OrderPartition(OrderId order) => "o|" + order.Value;

    private static string MessageRowKey(int number) => MessagePrefix + number.ToString("D4", CultureInfo.InvariantCulture);

    /// <summary>Opens a ticket with its first message, unless the order already has the most tickets allowed.</summary>
    public async Task<TicketWrite> TryOpenAsync(SupportTicket ticket, TicketMessage first, CancellationToken cancellationToken)
    {
        var partition = OrderPartition(ticket.OrderId);
        var counted = await RunAsync<TicketCounter, TicketCounter>(
            async token => await Table.FindAsync(partition, CountRowKey, token).ConfigureAwait(false) is { } row
                ? new TicketCounter(row.GetInt32("Count") ?? 0, row.ETag)
                : new TicketCounter(0, null),
            counter => counter.Count >= MaxTicketsPerOrder ? (null, s_limitReached) : (counter with { Count = counter.Count + 1 }, null),
            async (next, token) =>
            {
                var row = new TableEntity(partition, CountRowKey) { ["Count"] = next.Count };
                await Table.CommitAsync(
                [
                    // The order's first ticket adds the counter; a concurrent first ticket makes one of the adds a 409.
                    next.ETag is { } etag ? new(TableTransactionActionType.UpdateReplace, row, etag) : new(TableTransactionActionType.Add, row),
                    new(TableTransactionActionType.Add, new TableEntity(partition, ticket.Id.Value) { ["CreatedAt"] = ticket.CreatedAt }),
                ], token).ConfigureAwait(false);
                return next;
            },
            cancellationToken).ConfigureAwait(false);
        if (counted != TicketWrite.Done)
        {
            return counted;
        }
        await Table.CommitAsync(
        [
            new(TableTransactionActionType.Add, Header(ticket with { MessageCount = 1 })),
            new(TableTransactionActionType.Add, MessageEntity(ticket.Id, first)),
        ], cancellationToken).ConfigureAwait(false);
        return TicketWrite.Done;
    }

    /// <summary>Appends a message under the ticket's ETag, deciding again on a concurrent append, unless the ticket is full.</summary>
    public async Task<(TicketWrite Result, SupportTicket? Ticket)> TryAppendAsync(TicketId id, Func<int, TicketMessage> message, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var appended = await RunAsync<SupportTicket, SupportTicket>(
            async token => await Table.FindAsync(id.Value, HeaderRowKey, token).ConfigureAwait(false) is { } header
                ? FromHeader(header, [])
                : throw new InvalidOperationException($"Ticket {id} vanished."),
            ticket => ticket.MessageCount >= MaxMessagesPerTicket
                ? (null, s_limitReached)
                : (ticket with { MessageCount = ticket.MessageCount + 1, UpdatedAt = now }, null),
            async (updated, token) =>
            {
                await Table.CommitAsync(
                [
                    new(TableTransactionActionType.UpdateReplace, Header(updated), updated.ETag),
                    new(TableTransactionActionType.Add, MessageEntity(id, message(updated.MessageCount))),
                ], token).ConfigureAwait(false);
                return updated;
            },
            cancellationToken).ConfigureAwait(false);
        return appended == TicketWrite.Done ? (TicketWrite.Done, await GetAsync(id, cancellationToken).ConfigureAwait(false)) : (appended, null);
    }

    /// <summary>
    /// A counted write through <see cref="OptimisticCommand"/>. Many writers share one counter or header row, so it
    /// may lose more races than an aggregate command before it answers <see cref="TicketWrite.Contended"/>.
    /// </summary>
    private static async Task<TicketWrite> RunAsync<TStored, TDecision>(
        Func<CancellationToken, Task<TStored?>> read,
        Func<TStored, (TDecision? Decision, DomainError? Error)> decide,
        Func<TDecision, CancellationToken, Task<TStored>> commit,
        CancellationToken cancellationToken)
        where TStored : class
        where TDecision : class
    {
        try
        {
            var outcome = await OptimisticCommand.RunAsync(read, decide, _ => true, commit, cancellationToken, MaxAttempts).ConfigureAwait(false);
            return outcome.Error is null ? TicketWrite.Done : TicketWrite.LimitReached;
        }
        catch (RequestFailedException ex) when (OptimisticCommand.LostRace(ex))
        {
            return TicketWrite.Contended;
        }
    }

    /// <summary>The ticket with its messages, or null.</summary>
    public async Task<SupportTicket?> GetAsync(TicketId id, CancellationToken cancellationToken)
    {
        TableEntity? header = null;
        var messages = new List<TicketMessage>();
        await foreach (var row in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {id.Value}"), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (row.RowKey == HeaderRowKey)
            {
                header = row;
            }
            else if (row.RowKey.StartsWith(MessagePrefix, StringComparison.Ordinal))
            {
                PartyNames.TryParse(row.GetString("Author"), out Party author);
                messages.Add(new TicketMessage(
                    row.GetInt32("Number") ?? 0,
                    author,
                    AccountId.Parse(row.GetString("AuthorAccountId")!),
                    row.GetString("OnBehalfOfAccountId") is { } behalf ? AccountId.Parse(behalf) : null,
                    row.GetString("Text") ?? "",
                    row.GetDateTimeOffset("At") ?? default));
            }
        }
        return header is null ? null : FromHeader(header, messages.OrderBy(m => m.Number).ToList());
    }

    /// <summary>The order's tickets, oldest first; list rows whose ticket was never written are skipped.</summary>
    public async Task<IReadOnlyList<SupportTicket>> ListAsync(OrderId order, CancellationToken cancellationToken)
    {
        var ids = new List<TicketId>();
        await foreach (var row in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {OrderPartition(order)}"), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (TicketId.TryParse(row.RowKey, out var id))
            {
                ids.Add(id);
            }
        }
        var tickets = await Task.WhenAll(ids.Select(id => GetAsync(id, cancellationToken))).ConfigureAwait(false);
        return tickets.Where(t => t is not null && t.OrderId == order).Select(t => t!).OrderBy(t => t.CreatedAt).ToList();
    }

    private static TableEntity Header(SupportTicket t) => new(t.Id.Value, HeaderRowKey)
    {
        ["OrderId"] = t.OrderId.Value,
        ["ConnectionId"] = t.ConnectionId.Value,
        ["Subject"] = t.Subject,
        ["OpenedBy"] = PartyNames.ToWire(t.OpenedBy),
        ["MessageCount"] = t.MessageCount,
        ["CreatedAt"] = t.CreatedAt,
        ["UpdatedAt"] = t.UpdatedAt,
    };

    private static TableEntity MessageEntity(TicketId id, TicketMessage m) => new(id.Value, MessageRowKey(m.Number))
    {
        ["Number"] = m.Number,
        ["Author"] = PartyNames.ToWire(m.Author),
        ["AuthorAccountId"] = m.AuthorAccountId.Value,
        ["OnBehalfOfAccountId"] = m.OnBehalfOfAccountId?.Value,
        ["Text"] = m.Text,
        ["At"] = m.At,
    };

    private static SupportTicket FromHeader(TableEntity row, IReadOnlyList<TicketMessage> messages)
    {
        PartyNames.TryParse(row.GetString("OpenedBy"), out Party openedBy);
        return new SupportTicket(
            TicketId.Parse(row.PartitionKey),
            OrderId.Parse(row.GetString("OrderId")!),
            ConnectionId.Parse(row.GetString("ConnectionId")!),
            row.GetString("Subject") ?? "",
            openedBy,
            row.GetInt32("MessageCount") ?? 0,
            row.GetDateTimeOffset("CreatedAt") ?? default,
            row.GetDateTimeOffset("UpdatedAt") ?? default,
            messages,
            row.ETag);
    }

    /// <summary>Tickets opened on one order, with the ETag of its counter row (null before the first ticket).</summary>
    private sealed record TicketCounter(int Count, ETag? ETag);
}
