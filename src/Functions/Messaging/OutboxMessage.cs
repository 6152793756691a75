namespace ThreePL.Functions.Messaging;

/// <summary>
/// A queue message that a state change causes. It is written in the same entity-group transaction as the
/// change (an outbox row in the aggregate's partition) and sent to <see cref="Queue"/> afterwards, so the
/// change and its messages commit together. <see cref="Id"/> stays the same however often it is re-sent.
/// </summary>
public sealed record OutboxMessage(string Id, string Queue, string Body, TimeSpan Delay = default);
