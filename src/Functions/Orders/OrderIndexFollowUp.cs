using ThreePL.Domain.Common;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Orders;

/// <summary>
/// Every order command arms the outbox safety net before it commits; when it fires, this re-syncs the order's
/// list rows. Normally it only reads (the command synced them already); after a crash between the commit and
/// the index write it is what makes the lists right again.
/// </summary>
public sealed class OrderIndexFollowUp(OrderIndex index) : IOutboxFollowUp
{
    public string Table => OrderStore.TableName;

    public Task RunAsync(string partitionKey, CancellationToken cancellationToken) =>
        OrderId.TryParse(partitionKey, out var id) ? index.SyncAsync(id, cancellationToken) : Task.CompletedTask;
}
