using System.Text.Json;
using ThreePL.Domain.Common;

namespace ThreePL.Functions.Messaging;

/// <summary>
/// What one recipient of an event may see of its <see cref="EventEnvelope.Data"/>. An event carries its owner's full
/// view (one copy, so the queue message stays within its size); a feature whose representation holds parts that
/// belong to one connection narrows it here for every other recipient, with the rule its own GET applies, so an
/// event's data equals the GET representation for whoever receives it (a webhook destination, a catch-up feed row).
/// </summary>
public interface IEventView
{
    /// <summary>
    /// Null when the event is not this view's to narrow; else its data as <paramref name="recipient"/> sees it,
    /// confined to the event's connection when <paramref name="confinedToConnection"/> (the 3PL's per-connection URL,
    /// a connection's rows of the catch-up feed).
    /// </summary>
    JsonElement? DataFor(EventEnvelope envelope, AccountId recipient, bool confinedToConnection);
}

/// <summary>The registered <see cref="IEventView"/>s; an event none of them narrows reaches every recipient as it is.</summary>
public sealed class EventViews(IEnumerable<IEventView> views)
{
    public JsonElement DataFor(EventEnvelope envelope, AccountId recipient, bool confinedToConnection)
    {
        foreach (var view in views)
        {
            if (view.DataFor(envelope, recipient, confinedToConnection) is { } data)
            {
                return data;
            }
        }
        return envelope.Data;
    }
}
