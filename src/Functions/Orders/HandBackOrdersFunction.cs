using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Orders;

public sealed record OrderOptions
{
    /// <summary>How many orders one hand-back run moves before it re-enqueues itself for the rest.</summary>
    public int HandbackPageSize { get; init; } = 100;

    /// <summary>
    /// The longest delay one request-deadline message waits before it looks again (a storage queue message can be
    /// invisible for at most 7 days; a longer deadline is waited out in several hops). Tests shrink it.
    /// </summary>
    public TimeSpan RequestDeadlineMaxDelay { get; init; } = RequestDeadlineMessage.MaxQueueDelay;

    /// <summary>
    /// How many committed order commands this process finishes at once itself (<see cref="InProcessFollowUps"/>); 0
    /// releases every follow-up message to its queue function instead.
    /// </summary>
    public int InProcessFinishers { get; init; } = 16;

    public static OrderOptions FromConfiguration(IConfiguration configuration) => new()
    {
        HandbackPageSize = Math.Clamp(configuration.GetValue<int?>("ThreePL:Orders:HandbackPageSize") ?? 100, 1, 1000),
        RequestDeadlineMaxDelay = TimeSpan.FromSeconds(Math.Clamp(
            (configuration.GetValue<TimeSpan?>("ThreePL:Orders:RequestDeadlineMaxDelay") ?? RequestDeadlineMessage.MaxQueueDelay).TotalSeconds,
            1, RequestDeadlineMessage.MaxQueueDelay.TotalSeconds)),
        InProcessFinishers = Math.Clamp(configuration.GetValue<int?>("ThreePL:Orders:InProcessFinishers") ?? 16, 0, 64),
    };
}

/// <summary>
/// Hands the unstarted (<c>awaiting_shipment</c>) orders of a deactivated or disconnected connection back to
/// the merchant (queue <c>order-handbacks</c>, message <c>{"connectionId":"con_…"}</c>, sent through the
/// connection's outbox with the transition). One run moves one page from the 3PL's list partition, each
/// order by its own ETag-guarded command, then re-enqueues itself with the page's continuation. A crash
/// re-delivers the message and the run repeats: orders already handed back are no longer awaiting shipment
/// and are skipped, so nothing is lost or moved twice. A connection that is active again (reactivated before
/// the hand-back ran) keeps its orders.
/// </summary>
public sealed class HandBackOrdersFunction(
    ConnectionStore connections,
    OrderStore store,
    OrderIndex index,
    OrderCommands commands,
    QueueServiceClient queues,
    StorageNames names,
    OrderOptions options,
    ILogger<HandBackOrdersFunction> logger)
{
    [Function("HandBackOrders")]
    public Task RunAsync([QueueTrigger(QueueBinding.Prefix + HandBackRequest.Queue, Connection = QueueBinding.Connection)] Azure.Storage.Queues.Models.QueueMessage message, CancellationToken cancellationToken) =>
        HandleAsync(QueueDelivery.From(message), cancellationToken);

    public async Task HandleAsync(QueueDelivery trigger, CancellationToken cancellationToken)
    {
        var message = JsonSerializer.Deserialize<HandBackRequest>(trigger.MessageText, EventEnvelope.Json)
            ?? throw new JsonException("Empty hand-back message.");
        if (!ConnectionId.TryParse(message.ConnectionId, out var connectionId)
            || await connections.GetAsync(connectionId, cancellationToken).ConfigureAwait(false) is not { } connection)
        {
            logger.LogWarning("Hand-back message {MessageId} names no connection", trigger.MessageId);
            return;
        }
        if (connection.Connection.Status == ConnectionStatus.Active)
        {
            return;
        }
        var (from, to) = OrderIndex.ConnectionRange(connectionId);
        var awaiting = OrderStatusNames.ToWire(OrderStatus.AwaitingShipment);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {OrderIndex.ThreePlPartition(connection.Connection.ThreePlAccountId)} and RowKey ge {from} and RowKey lt {to} and Status eq {awaiting}");
        var (rows, next) = await store.Table.QueryPageAsync(filter, message.Cursor, options.HandbackPageSize, cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (var row in rows)
        {
            var orderId = OrderId.Parse(row.GetString("OrderId")!);
            var result = await commands.TransitionAsync(orderId, (order, now) => order.ConnectionId == connectionId && order.Status == OrderStatus.AwaitingShipment
                ? order.HandBack(now)
                : Outcome<OrderEvent>.Failure(OrderErrors.InvalidTransition, "Not awaiting shipment with this connection."), cancellationToken).ConfigureAwait(false);
            if (!result.Changed && result.Order is { } current)
            {
                // The row said awaiting shipment but the order is not: repair the row so it leaves the filter.
                await index.SyncAsync(current, expectNew: false, cancellationToken).ConfigureAwait(false);
            }
        }
        if (next is not null)
        {
            var body = JsonSerializer.Serialize(new HandBackRequest(connectionId.Value, next), EventEnvelope.Json);
            await queues.GetQueueClient(names.Queue(HandBackRequest.Queue)).SendMessageAsync(body, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        logger.LogInformation("Hand-back of {ConnectionId}: {Count} orders looked at, {More}", connectionId, rows.Count, next is null ? "done" : "more to come");
    }

    /// <summary>The message: the connection, and where the previous run stopped (absent on the first run).</summary>
}
