using Azure.Core;
using Azure.Core.Pipeline;

namespace ThreePL.Functions.Tests.Infrastructure;

/// <summary>
/// Sends the next <c>$batch</c> twice once armed, as the storage client does when it lost the answer to one: a retry of a
/// transaction that had committed fails on its own write.
/// </summary>
public sealed class ReplayNextBatch : HttpPipelinePolicy
{
    private int _armed;
    private int _replayed;

    public bool Armed { set => Volatile.Write(ref _armed, value ? 1 : 0); }

    public int Replayed => Volatile.Read(ref _replayed);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The app's storage calls are asynchronous.");

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
        if (message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal) && Interlocked.Exchange(ref _armed, 0) == 1)
        {
            Interlocked.Increment(ref _replayed);
            await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
        }
    }
}
