namespace ThreePL.Functions.Tests.Infrastructure;

/// <summary>
/// Real time plus whatever the test has jumped: time keeps flowing for the app's concurrent work, and a test that needs
/// a window to pass (a settle window, a cache bound) jumps over it instead of waiting for it.
/// </summary>
public sealed class JumpingClock : TimeProvider
{
    private long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public void Jump(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
}
