using Azure;
using Microsoft.Extensions.Time.Testing;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Hosting;

/// <summary>
/// <see cref="StaleCache{TKey,TValue}"/>: concurrent misses of one key share one read, and no caller is ever given a
/// value whose read started a lifetime or more before its call. Each read here waits on a gate the test opens.
/// </summary>
public sealed class StaleCacheTests
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(5);

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero));
    private readonly List<Read> _reads = [];

    private StaleCache<string, string> NewCache() => new(_clock, Lifetime);

    /// <summary>A read the test ends by hand (or its token cancels, as a storage read's would); the token is the one the cache passed.</summary>
    private sealed record Read(TaskCompletionSource<string?> Gate, CancellationToken Token);

    private Task<string?> Gated(CancellationToken token)
    {
        var read = new Read(new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously), token);
        token.Register(() => read.Gate.TrySetCanceled(token));
        lock (_reads)
        {
            _reads.Add(read);
        }
        return read.Gate.Task;
    }

    private int ReadCount
    {
        get
        {
            lock (_reads)
            {
                return _reads.Count;
            }
        }
    }

    [Fact]
    public async Task Concurrent_misses_of_one_key_share_one_read()
    {
        var cache = NewCache();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var asked = 0;
        var callers = Enumerable.Range(0, 20).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            var value = cache.GetAsync("acct", Gated, CancellationToken.None);
            Interlocked.Increment(ref asked);
            return await value;
        })).ToList();

        start.SetResult();
        await Eventually.True(() => Task.FromResult(Volatile.Read(ref asked) == 20), "20 callers waiting");

        Assert.Equal(1, ReadCount);
        Assert.All(callers, c => Assert.False(c.IsCompleted));

        _reads[0].Gate.SetResult("v1");

        Assert.All(await Task.WhenAll(callers), value => Assert.Equal("v1", value));
        Assert.Equal("v1", await cache.GetAsync("acct", Gated, CancellationToken.None));
        Assert.Equal(1, ReadCount);
    }

    [Fact]
    public async Task Misses_of_different_keys_read_each_key()
    {
        var cache = NewCache();
        var a = cache.GetAsync("a", Gated, CancellationToken.None);
        var b = cache.GetAsync("b", Gated, CancellationToken.None);

        Assert.Equal(2, ReadCount);
        _reads[0].Gate.SetResult("va");
        _reads[1].Gate.SetResult("vb");
        Assert.Equal("va", await a);
        Assert.Equal("vb", await b);
    }

    [Fact]
    public async Task A_caller_that_gives_up_does_not_cancel_the_read_the_others_wait_for()
    {
        var cache = NewCache();
        using var impatient = new CancellationTokenSource();
        var first = cache.GetAsync("acct", Gated, impatient.Token);
        var second = cache.GetAsync("acct", Gated, CancellationToken.None);
        var third = cache.GetAsync("acct", Gated, CancellationToken.None);
        Assert.Equal(1, ReadCount);

        await impatient.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Assert.False(_reads[0].Token.IsCancellationRequested);
        Assert.False(second.IsCompleted);
        _reads[0].Gate.SetResult("v1");
        Assert.Equal("v1", await second);
        Assert.Equal("v1", await third);
        Assert.Equal("v1", await cache.GetAsync("acct", Gated, CancellationToken.None));
        Assert.Equal(1, ReadCount);
    }

    [Fact]
    public async Task A_caller_cancelled_before_it_asks_starts_no_read()
    {
        var cache = NewCache();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cache.GetAsync("acct", Gated, cancelled.Token));
        Assert.Equal(0, ReadCount);
    }

    [Fact]
    public async Task A_failed_read_fails_its_waiters_and_is_not_remembered()
    {
        var cache = NewCache();
        var first = cache.GetAsync("acct", Gated, CancellationToken.None);
        var second = cache.GetAsync("acct", Gated, CancellationToken.None);
        Assert.Equal(1, ReadCount);

        _reads[0].Gate.SetException(new RequestFailedException(503, "busy"));

        Assert.Equal(503, (await Assert.ThrowsAsync<RequestFailedException>(() => first)).Status);
        Assert.Equal(503, (await Assert.ThrowsAsync<RequestFailedException>(() => second)).Status);
        var retry = cache.GetAsync("acct", Gated, CancellationToken.None);
        Assert.Equal(2, ReadCount);
        _reads[1].Gate.SetResult("v1");
        Assert.Equal("v1", await retry);
    }

    [Fact]
    public async Task A_read_that_throws_before_it_awaits_fails_its_caller_and_is_not_remembered()
    {
        var cache = NewCache();

        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetAsync("acct", _ => throw new InvalidOperationException("bug"), CancellationToken.None));

        Assert.Equal("v1", await cache.GetAsync("acct", _ => Task.FromResult<string?>("v1"), CancellationToken.None));
    }

    [Fact]
    public async Task A_null_is_shared_with_the_waiters_but_not_remembered()
    {
        var cache = NewCache();
        var first = cache.GetAsync("acct", Gated, CancellationToken.None);
        var second = cache.GetAsync("acct", Gated, CancellationToken.None);
        Assert.Equal(1, ReadCount);
        _reads[0].Gate.SetResult(null);

        Assert.Null(await first);
        Assert.Null(await second);
        var next = cache.GetAsync("acct", Gated, CancellationToken.None);
        Assert.Equal(2, ReadCount);
        _reads[1].Gate.SetResult("v1");
        Assert.Equal("v1", await next);
    }

    [Fact]
    public async Task A_value_is_served_until_a_lifetime_after_its_read_started()
    {
        var cache = NewCache();
        var first = cache.GetAsync("acct", Gated, CancellationToken.None);
        _clock.Advance(TimeSpan.FromSeconds(1));
        _reads[0].Gate.SetResult("v1");
        Assert.Equal("v1", await first);

        _clock.Advance(Lifetime - TimeSpan.FromSeconds(1) - TimeSpan.FromMilliseconds(1));
        Assert.Equal("v1", await cache.GetAsync("acct", Gated, CancellationToken.None));
        Assert.Equal(1, ReadCount);

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        var second = cache.GetAsync("acct", Gated, CancellationToken.None);
        Assert.Equal(2, ReadCount);
        _reads[1].Gate.SetResult("v2");
        Assert.Equal("v2", await second);
    }

    [Fact]
    public async Task A_caller_does_not_wait_for_a_read_that_started_a_lifetime_before_it()
    {
        var cache = NewCache();
        var slow = cache.GetAsync("acct", Gated, CancellationToken.None);
        _clock.Advance(Lifetime - TimeSpan.FromMilliseconds(1));
        var joined = cache.GetAsync("acct", Gated, CancellationToken.None);
        Assert.Equal(1, ReadCount);

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        var late = cache.GetAsync("acct", Gated, CancellationToken.None);
        Assert.Equal(2, ReadCount);

        _reads[1].Gate.SetResult("new");
        Assert.Equal("new", await late);
        _reads[0].Gate.SetResult("old");
        Assert.Equal("old", await slow);
        Assert.Equal("old", await joined);
        // The slow read finished after the newer one: it is not remembered over it.
        Assert.Equal("new", await cache.GetAsync("acct", Gated, CancellationToken.None));
        Assert.Equal(2, ReadCount);
    }

    [Fact]
    public async Task A_read_under_way_when_the_key_is_forgotten_is_not_served_to_later_callers()
    {
        var cache = NewCache();
        var before = cache.GetAsync("acct", Gated, CancellationToken.None);

        cache.Forget("acct");
        var after = cache.GetAsync("acct", Gated, CancellationToken.None);

        Assert.Equal(2, ReadCount);
        _reads[1].Gate.SetResult("after the change");
        Assert.Equal("after the change", await after);
        _reads[0].Gate.SetResult("before the change");
        Assert.Equal("before the change", await before);
        Assert.Equal("after the change", await cache.GetAsync("acct", Gated, CancellationToken.None));
        Assert.Equal(2, ReadCount);
    }

    [Fact]
    public async Task An_update_changes_a_remembered_value_and_keeps_its_read_time()
    {
        var cache = NewCache();
        Assert.Equal("v1", await cache.GetAsync("acct", _ => Task.FromResult<string?>("v1"), CancellationToken.None));

        cache.Update("acct", v => v + "+touched");
        Assert.Equal("v1+touched", await cache.GetAsync("acct", Gated, CancellationToken.None));
        _clock.Advance(Lifetime);
        var expired = cache.GetAsync("acct", Gated, CancellationToken.None);

        Assert.Equal(1, ReadCount);
        _reads[0].Gate.SetResult("v2");
        Assert.Equal("v2", await expired);
    }

    [Fact]
    public async Task With_a_lifetime_of_zero_every_call_reads_with_its_own_token()
    {
        var cache = new StaleCache<string, string>(_clock, TimeSpan.Zero);
        using var caller = new CancellationTokenSource();
        var first = cache.GetAsync("acct", Gated, caller.Token);
        var second = cache.GetAsync("acct", Gated, CancellationToken.None);

        Assert.Equal(2, ReadCount);
        Assert.Equal(caller.Token, _reads[0].Token);
        _reads[0].Gate.SetResult("a");
        _reads[1].Gate.SetResult("b");
        Assert.Equal("a", await first);
        Assert.Equal("b", await second);
    }

    [Fact]
    public async Task A_value_remembered_from_another_read_is_served_until_a_lifetime_after_that_read_started()
    {
        var cache = NewCache();
        var readStartedAt = _clock.GetUtcNow();
        _clock.Advance(TimeSpan.FromSeconds(1));

        cache.Remember("acct", "read elsewhere", readStartedAt);

        Assert.Equal("read elsewhere", await cache.GetAsync("acct", Gated, CancellationToken.None));
        _clock.Advance(Lifetime - TimeSpan.FromSeconds(1) - TimeSpan.FromMilliseconds(1));
        Assert.Equal("read elsewhere", await cache.GetAsync("acct", Gated, CancellationToken.None));
        Assert.Equal(0, ReadCount);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        var reading = cache.GetAsync("acct", Gated, CancellationToken.None);
        Assert.Equal(1, ReadCount);
        _reads[0].Gate.SetResult("read here");
        Assert.Equal("read here", await reading);
    }

    [Fact]
    public async Task An_older_remembered_value_never_replaces_a_newer_one()
    {
        var cache = NewCache();
        var older = _clock.GetUtcNow();
        _clock.Advance(TimeSpan.FromSeconds(1));
        cache.Remember("acct", "newer", _clock.GetUtcNow());

        cache.Remember("acct", "older", older);

        Assert.Equal("newer", await cache.GetAsync("acct", Gated, CancellationToken.None));
        Assert.Equal(0, ReadCount);
    }
}
