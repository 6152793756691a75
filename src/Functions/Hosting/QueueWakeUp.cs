using System.Collections.Concurrent;

namespace ThreePL.Functions.Hosting;

/// <summary>
/// Lets a sender tell this instance's listener that a queue has work, so it polls now instead of after its
/// back-off. Purely a latency hint: the listener still polls, so other instances' messages and a lost hint
/// cost only time, never a message.
/// </summary>
public sealed class QueueWakeUp
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _signals = new(StringComparer.Ordinal);

    public void Notify(string queueName) => Signal(queueName).Release();

    public async Task WaitAsync(string queueName, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var signal = Signal(queueName);
        if (await signal.WaitAsync(timeout, cancellationToken).ConfigureAwait(false))
        {
            while (signal.CurrentCount > 0 && signal.Wait(0))
            {
            }
        }
    }

    private SemaphoreSlim Signal(string queueName) => _signals.GetOrAdd(queueName, _ => new SemaphoreSlim(0));
}
