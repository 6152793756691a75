namespace ThreePL.Domain.Common;

/// <summary>
/// A rule failure the domain expects (an illegal transition, a missing confirmation). It is a value, not an
/// exception: callers map <see cref="Code"/> to an HTTP problem. Exceptions stay for broken invariants.
/// </summary>
/// <param name="Code">Stable machine code, e.g. <c>invalid_transition</c>.</param>
/// <param name="Message">Human-readable explanation.</param>
public sealed record DomainError(string Code, string Message);

/// <summary>The outcome of a domain command: either the events it caused or the rule it broke.</summary>
/// <typeparam name="TEvent">The aggregate's event type.</typeparam>
public readonly record struct Outcome<TEvent>
{
    private Outcome(IReadOnlyList<TEvent>? events, DomainError? error)
    {
        Events = events ?? [];
        Error = error;
    }

    /// <summary>The events the command caused; empty on failure.</summary>
    public IReadOnlyList<TEvent> Events { get; }

    /// <summary>The broken rule, or null on success.</summary>
    public DomainError? Error { get; }

    /// <summary>True when the command succeeded.</summary>
    public bool Succeeded => Error is null;

    /// <summary>A success that caused <paramref name="events"/>.</summary>
    public static Outcome<TEvent> Success(params TEvent[] events) => new(events, null);

    /// <summary>A failure with the given code and message.</summary>
    public static Outcome<TEvent> Failure(string code, string message) => new(null, new DomainError(code, message));
}
