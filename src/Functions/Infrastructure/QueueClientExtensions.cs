using Azure.Storage.Queues;

namespace ThreePL.Functions.Infrastructure;

public static class QueueClientExtensions
{
    /// <summary>The queue's approximate length: one cheap metadata read, no message is touched.</summary>
    public static async Task<int> ApproximateCountAsync(this QueueClient queue, CancellationToken cancellationToken = default)
    {
        var properties = await queue.GetPropertiesAsync(cancellationToken).ConfigureAwait(false);
        return properties.Value.ApproximateMessagesCount;
    }
}
