namespace ThreePL.Functions.Tests.Infrastructure;

/// <summary>Polls a condition that background work makes true, failing with a message after a deadline.</summary>
public static class Eventually
{
    // Azurite's queue garbage collection can stall it for 20-36 s once a full suite has left messages behind; a
    // default deadline below that would turn a stall into a failure.
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    public static async Task<T> Get<T>(Func<Task<T?>> probe, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            var value = await probe();
            if (value is not null)
            {
                return value;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for {what}.");
            }
            await Task.Delay(50);
        }
    }

    public static async Task True(Func<Task<bool>> probe, string what, TimeSpan? timeout = null) =>
        await Get<object>(async () => await probe() ? new object() : null, what, timeout);
}
