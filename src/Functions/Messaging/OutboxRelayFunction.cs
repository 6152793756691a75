using System.Text.Json;
using ThreePL.Functions.Hosting;

namespace ThreePL.Functions.Messaging;

/// <summary>The outbox safety net: re-drives the outbox rows of the partition a message names.</summary>
public sealed class OutboxRelayFunction(Outbox outbox) : IQueueFunction
{
    /// <summary>Tables whose partitions hold outbox rows; a message naming any other is refused.</summary>
    public static readonly IReadOnlySet<string> OutboxTables = new HashSet<string>(StringComparer.Ordinal) { Connections.ConnectionStore.TableName };

    public string Name => "OutboxRelay";

    public string QueueName => Outbox.RelayQueue;

    public Task RunAsync(QueueTrigger trigger, CancellationToken cancellationToken)
    {
        var request = JsonSerializer.Deserialize<Outbox.RelayRequest>(trigger.MessageText)
            ?? throw new InvalidOperationException("Empty outbox relay message.");
        if (!OutboxTables.Contains(request.Table))
        {
            throw new InvalidOperationException($"Table '{request.Table}' has no outbox.");
        }
        return outbox.RelayPendingAsync(request.Table, request.PartitionKey, cancellationToken);
    }
}
