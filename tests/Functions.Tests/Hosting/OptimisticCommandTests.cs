using Azure;
using ThreePL.Domain.Common;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Tests.Hosting;

public sealed class OptimisticCommandTests
{
    private sealed record Stored(int Version);

    private sealed record Decision(int Next);

    [Fact]
    public async Task A_lost_race_reads_and_decides_again_on_the_winners_state()
    {
        var stored = 1;
        var decided = new List<int>();
        var commits = 0;

        var outcome = await OptimisticCommand.RunAsync<Stored, Decision>(
            _ => Task.FromResult<Stored?>(new Stored(stored)),
            current => { decided.Add(current.Version); return (new Decision(current.Version + 1), null); },
            _ => true,
            (decision, _) =>
            {
                if (++commits < 3)
                {
                    stored++;
                    throw new RequestFailedException(412, "The condition specified using HTTP conditional header(s) is not met.");
                }
                return Task.FromResult(new Stored(decision.Next));
            },
            CancellationToken.None);

        Assert.Equal([1, 2, 3], decided);
        Assert.True(outcome.Changed);
        Assert.Equal(4, outcome.Stored!.Version);
    }

    [Fact]
    public async Task A_broken_rule_or_nothing_to_do_commits_nothing_and_a_missing_aggregate_is_not_found()
    {
        var commits = 0;
        Task<Stored> Commit(Decision _, CancellationToken __) { commits++; return Task.FromResult(new Stored(0)); }

        var refused = await OptimisticCommand.RunAsync<Stored, Decision>(_ => Task.FromResult<Stored?>(new Stored(1)), _ => (null, new DomainError("invalid_transition", "no")), _ => true, Commit, default);
        var idle = await OptimisticCommand.RunAsync<Stored, Decision>(_ => Task.FromResult<Stored?>(new Stored(1)), _ => (new Decision(1), null), _ => false, Commit, default);
        var missing = await OptimisticCommand.RunAsync<Stored, Decision>(_ => Task.FromResult<Stored?>(null), _ => throw new InvalidOperationException("not called"), _ => true, Commit, default);

        Assert.Equal("invalid_transition", refused.Error!.Code);
        Assert.False(idle.Changed);
        Assert.Equal(new Stored(1), idle.Stored);
        Assert.True(missing.NotFound);
        Assert.Equal(0, commits);
    }

    [Fact]
    public async Task A_race_lost_every_time_surfaces_the_412_after_the_last_attempt()
    {
        var commits = 0;

        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => OptimisticCommand.RunAsync<Stored, Decision>(
            _ => Task.FromResult<Stored?>(new Stored(1)),
            _ => (new Decision(2), null),
            _ => true,
            (_, _) => { commits++; throw new RequestFailedException(412, "stale"); },
            CancellationToken.None));

        Assert.Equal(412, failure.Status);
        Assert.Equal(OptimisticCommand.MaxAttempts, commits);
    }

    [Theory]
    [InlineData(409)]
    [InlineData(404)]
    public async Task A_row_added_or_deleted_meanwhile_is_a_lost_race_too(int status)
    {
        var reads = 0;
        var outcome = await OptimisticCommand.RunAsync<Stored, Decision>(
            _ => Task.FromResult(++reads == 1 ? new Stored(1) : status == 404 ? null : new Stored(2)),
            current => (new Decision(current.Version + 1), null),
            _ => true,
            (decision, _) => decision.Next == 2 ? throw new RequestFailedException(status, "raced") : Task.FromResult(new Stored(decision.Next)),
            CancellationToken.None);

        Assert.Equal(2, reads);
        Assert.Equal(status == 404, outcome.NotFound);
        Assert.Equal(status == 404 ? null : new Stored(3), outcome.Stored);
    }

    [Fact]
    public async Task Any_other_failure_surfaces_at_once_and_max_attempts_can_be_raised()
    {
        var commits = 0;
        await Assert.ThrowsAsync<RequestFailedException>(() => OptimisticCommand.RunAsync<Stored, Decision>(
            _ => Task.FromResult<Stored?>(new Stored(1)), _ => (new Decision(2), null), _ => true,
            (_, _) => { commits++; throw new RequestFailedException(400, "bad"); }, CancellationToken.None));
        Assert.Equal(1, commits);

        commits = 0;
        await Assert.ThrowsAsync<RequestFailedException>(() => OptimisticCommand.RunAsync<Stored, Decision>(
            _ => Task.FromResult<Stored?>(new Stored(1)), _ => (new Decision(2), null), _ => true,
            (_, _) => { commits++; throw new RequestFailedException(412, "stale"); }, CancellationToken.None, maxAttempts: 12));
        Assert.Equal(12, commits);
    }
}
