using Azure;
using ThreePL.Domain.Common;

namespace ThreePL.Functions.Infrastructure;

/// <summary>What running a command came to: the aggregate as committed (or as read, when nothing changed), or the rule it broke, or not found.</summary>
public sealed record CommandOutcome<TStored>(TStored? Stored, DomainError? Error, bool Changed)
    where TStored : class
{
    public bool NotFound => Stored is null && Error is null;
}

/// <summary>
/// The one loop every aggregate command runs: read, decide (pure), commit under the ETag it read. A lost race means
/// another writer got there first — 412 (the row changed), 409 (a row this commit adds was added meanwhile, such as
/// a counter's first row) or 404 (the row was deleted): read again and decide again, so the loser decides on the
/// winner's state (approve racing cancel, ship racing cancel: exactly one succeeds, the other gets the rule it now
/// breaks; a key updated while it is deleted is not found). The retries back off with jitter so racing writers
/// spread out; after the last attempt the lost race surfaces as its <see cref="RequestFailedException"/>.
/// </summary>
public static class OptimisticCommand
{
    public const int MaxAttempts = 10;

    /// <summary>Whether a failed commit lost a race to another writer (and deciding again on a fresh read is the answer).</summary>
    public static bool LostRace(RequestFailedException failure) =>
        failure.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status409Conflict or StatusCodes.Status404NotFound;

    /// <param name="read">The current aggregate with its ETag, or null when it does not exist.</param>
    /// <param name="decide">The decision on the current state: a change, a broken rule, or null for "nothing to do".</param>
    /// <param name="changesAnything">Whether a decision needs a commit at all.</param>
    /// <param name="commit">Writes the decision under the ETag it was read at; returns the aggregate as committed.</param>
    /// <param name="maxAttempts">How many races to lose before giving up: more where many writers share one row.</param>
    public static async Task<CommandOutcome<TStored>> RunAsync<TStored, TDecision>(
        Func<CancellationToken, Task<TStored?>> read,
        Func<TStored, (TDecision? Decision, DomainError? Error)> decide,
        Func<TDecision, bool> changesAnything,
        Func<TDecision, CancellationToken, Task<TStored>> commit,
        CancellationToken cancellationToken,
        int maxAttempts = MaxAttempts)
        where TStored : class
        where TDecision : class
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = await read(cancellationToken).ConfigureAwait(false);
            if (current is null)
            {
                return new CommandOutcome<TStored>(null, null, false);
            }
            var (decision, error) = decide(current);
            if (error is not null)
            {
                return new CommandOutcome<TStored>(current, error, false);
            }
            if (decision is null || !changesAnything(decision))
            {
                return new CommandOutcome<TStored>(current, null, false);
            }
            try
            {
                return new CommandOutcome<TStored>(await commit(decision, cancellationToken).ConfigureAwait(false), null, true);
            }
            catch (RequestFailedException ex) when (LostRace(ex) && attempt < maxAttempts)
            {
                await Task.Delay(Random.Shared.Next(5, 20 * Math.Min(attempt, MaxAttempts)), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
