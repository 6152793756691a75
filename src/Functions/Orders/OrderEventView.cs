using System.Text.Json;
using ThreePL.Domain.Common;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Orders;

/// <summary>
/// Narrows an <c>order.*</c> event's data (the merchant's full view, <see cref="OrderResponse.For(Domain.Orders.Order)"/>)
/// for every recipient but the merchant's own unscoped destinations: the 3PL and anything confined to a connection see
/// the order as the event's connection does (<see cref="OrderResponse.SeenBy"/>), which is what its GET shows them.
/// </summary>
public sealed class OrderEventView : IEventView
{
    public JsonElement? DataFor(EventEnvelope envelope, AccountId recipient, bool confinedToConnection)
    {
        if (!envelope.Type.StartsWith("order.", StringComparison.Ordinal))
        {
            return null;
        }
        if (!envelope.Data.TryGetProperty("rejections", out var rejections) || rejections.ValueKind != JsonValueKind.Array || rejections.GetArrayLength() == 0)
        {
            // Nothing a connection could be kept from (most events): every recipient gets the data as it is, unparsed.
            return envelope.Data;
        }
        var full = envelope.Data.Deserialize<OrderResponse>(EventEnvelope.Json)
            ?? throw new JsonException($"Event {envelope.Id} carries no order.");
        if (recipient.Value == full.MerchantAccountId && !confinedToConnection)
        {
            return envelope.Data;
        }
        var seen = full.SeenBy(OrderViewer.Of(ConnectionId.TryParse(envelope.ConnectionId, out var connection) ? connection : null));
        return seen.Rejections.Count == full.Rejections.Count ? envelope.Data : JsonSerializer.SerializeToElement(seen, EventEnvelope.Json);
    }
}
