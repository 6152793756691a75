using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace ThreePL.Functions.Infrastructure;

public static class QueueClientExtensions
{
    /// <summary>The queue's approximate length: one cheap metadata read, no message is touched.</summary>
    public static async Task<int> ApproximateCountAsync(this QueueClient queue, CancellationToken cancellationToken = default)
    {
        var properties = await queue.GetPropertiesAsync(cancellationToken).ConfigureAwait(false);
        return properties.Value.ApproximateMessagesCount;
    }

    /// <summary>
    /// Sends a message that becomes visible after <paramref name="delay"/> (none when zero or less). The service counts
    /// delays in whole seconds and the SDK truncates; rounding up keeps a delay from ever running short (a
    /// <c>Retry-After</c> of 1.4 s must not become 1 s).
    /// </summary>
    public static Task<Response<SendReceipt>> SendAfterAsync(this QueueClient queue, string messageText, TimeSpan delay, CancellationToken cancellationToken = default)
    {
        TimeSpan? visibility = delay > TimeSpan.Zero ? TimeSpan.FromSeconds(Math.Ceiling(delay.TotalSeconds)) : null;
        return queue.SendMessageAsync(messageText, visibility, cancellationToken: cancellationToken);
    }
}
