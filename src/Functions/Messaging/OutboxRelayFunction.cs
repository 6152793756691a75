using System.Text.Json;

namespace ThreePL.Functions.Messaging;

/// <summary>The tables whose partitions hold outbox rows (base names), named by the app's composition.</summary>
public sealed record OutboxTables(IReadOnlySet<string> Names);

/// <summary>The outbox safety net: re-drives the outbox rows of the partition a message names.</summary>
public sealed class OutboxRelayFunction(Outbox outbox, OutboxTables outboxTables)
{
    [Function("OutboxRelay")]
    public Task RunAsync([QueueTrigger(QueueBinding.Prefix + Outbox.RelayQueue, Connection = QueueBinding.Connection)] Azure.Storage.Queues.Models.QueueMessage message, CancellationToken cancellationToken) =>
        HandleAsync(QueueDelivery.From(message), cancellationToken);

    public async Task HandleAsync(QueueDelivery trigger, CancellationToken cancellationToken)
    {
        var request = JsonSerializer.Deserialize<Outbox.RelayRequest>(trigger.MessageText)
            ?? throw new InvalidOperationException("Empty outbox relay message.");
        if (!outboxTables.Names.Contains(request.Table))
        {
            throw new InvalidOperationException($"Table '{request.Table}' has no outbox.");
        }
        await outbox.RelayPendingAsync(request.Table, request.PartitionKey, cancellationToken).ConfigureAwait(false);
    }
}
