using ThreePL.Domain.Common;

namespace ThreePL.Functions.Infrastructure;

/// <summary>
/// In-process notice that this instance just committed a change, for features that keep a bounded-stale copy of
/// another feature's data (<see cref="StaleCache{TKey,TValue}"/>): the instance that makes a change then never
/// serves the old value, and the owner of the data needs to know nothing about who caches it.
/// </summary>
public sealed class LocalChanges
{
    public event Action<ConnectionId>? ConnectionChanged;

    public void Connection(ConnectionId id) => ConnectionChanged?.Invoke(id);
}
