namespace ThreePL.Functions.Tests.Infrastructure;

/// <summary>A clock that moves <paramref name="step"/> forward on every read: each write the code under test times seems to take that long.</summary>
public sealed class SteppingTime(DateTimeOffset start, TimeSpan step) : TimeProvider
{
    private long _reads;

    public override DateTimeOffset GetUtcNow() => start + (step * Interlocked.Increment(ref _reads));
}
