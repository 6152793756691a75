using System.Text.Json;
using ThreePL.Domain.Common;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Orders;

/// <summary>
/// Finishes an order command's work from its follow-up message (queue <c>order-follow-ups</c>,
/// <see cref="OrderFollowUpMessage"/>): publishes the events the change carries (the catch-up feed, subscribers such as
/// billing, the webhooks), sends its other messages (a routing request after a rejection, a request deadline) and, if
/// the command could not, brings the list rows in line. It is the only publisher of those messages, so a run that dies
/// half-way is repeated by this message coming back (<c>redelivered</c>). Idempotent.
/// <list type="bullet">
/// <item>Released (the command committed and said so): publish what the message carries, or what the change's history
/// row carries when it did not fit.</item>
/// <item>Not released (the command died before, its release failed, it lost its race and could not withdraw, or its
/// commit is still under way): the order row decides. While it still has the ETag the command read, the command has
/// not committed, and a write under that ETag makes sure it never will (the commit's condition fails and the command,
/// if alive, retries with a message of its own), so nothing is published for a change that never committed and no
/// late commit is left without its message. Once the ETag differs, the command committed exactly when the history row
/// of its version names this message.</item>
/// </list>
/// </summary>
public sealed class FinishOrderCommandFunction(OrderStore store, OrderIndex index, InlineRelay relay, ILogger<FinishOrderCommandFunction> logger)
{
    [Function("FinishOrderCommand")]
    public Task RunAsync([QueueTrigger(QueueBinding.Prefix + OrderFollowUpMessage.Queue, Connection = QueueBinding.Connection)] Azure.Storage.Queues.Models.QueueMessage message, CancellationToken cancellationToken) =>
        HandleAsync(QueueDelivery.From(message), cancellationToken);

    public async Task HandleAsync(QueueDelivery trigger, CancellationToken cancellationToken)
    {
        var message = JsonSerializer.Deserialize<OrderFollowUpMessage>(trigger.MessageText, EventEnvelope.Json)
            ?? throw new JsonException("Empty order follow-up message.");
        if (!OrderId.TryParse(message.OrderId, out var id))
        {
            logger.LogWarning("Order follow-up {MessageId} names no order", trigger.MessageId);
            return;
        }
        if (message.Committed)
        {
            var messages = message.Messages
                ?? await store.CarriedByFollowUpAsync(id, message.Version, trigger.MessageId, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Order {id} version {message.Version} was committed by follow-up {trigger.MessageId}, but its history row does not say so.");
            await relay.PublishAsync(messages, redelivered: trigger.DequeueCount > 1, cancellationToken).ConfigureAwait(false);
            if (!message.ListsSynced)
            {
                await index.SyncAsync(id, cancellationToken).ConfigureAwait(false);
            }
            return;
        }
        await RecoverAsync(id, message, trigger.MessageId, cancellationToken).ConfigureAwait(false);
    }

    private async Task RecoverAsync(OrderId id, OrderFollowUpMessage message, string messageId, CancellationToken cancellationToken)
    {
        while (true)
        {
            // The order row first: read after it, the history row cannot miss a commit that the row's ETag already showed.
            var stored = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
            if (stored is null)
            {
                logger.LogWarning("Order follow-up {MessageId} names order {OrderId}, which does not exist", messageId, id);
                return;
            }
            if (stored.ETag.ToString() == message.ReadETag)
            {
                if (await store.FenceAsync(stored, cancellationToken).ConfigureAwait(false))
                {
                    logger.LogInformation("Order {OrderId} was never changed by the command of follow-up {MessageId}; it never will be", id, messageId);
                    return;
                }
                continue;
            }
            if (await store.CarriedByFollowUpAsync(id, message.Version, messageId, cancellationToken).ConfigureAwait(false) is not { } carried)
            {
                logger.LogInformation("The command of follow-up {MessageId} lost its race on order {OrderId}; nothing to finish", messageId, id);
                return;
            }
            logger.LogInformation("Finishing the command of follow-up {MessageId} on order {OrderId} (version {Version}) after its process stopped", messageId, id, message.Version);
            await relay.PublishAsync(carried, redelivered: true, cancellationToken).ConfigureAwait(false);
            await index.SyncAsync(stored, expectNew: false, cancellationToken).ConfigureAwait(false);
            return;
        }
    }
}
