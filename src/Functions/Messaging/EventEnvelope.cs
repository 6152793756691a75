using System.Text.Json;
using System.Text.Json.Serialization;

namespace ThreePL.Functions.Messaging;

/// <summary>
/// An event on the internal <c>events</c> queue: what happened, to which connection or order, and which
/// accounts it concerns. <see cref="Data"/> is the public representation as its owner sees it, so a webhook built
/// from it has "the same content as the regular" resource by construction; <see cref="EventViews"/> narrows it for a
/// recipient that sees less (a 3PL, a key scoped to a connection).
/// </summary>
public sealed record EventEnvelope(
    string Id,
    string Type,
    DateTimeOffset CreatedAt,
    string? ConnectionId,
    string? OrderId,
    IReadOnlyList<string> AccountIds,
    JsonElement Data)
{
    public const string Queue = "events";

    /// <summary>
    /// The accounts whose catch-up rows of this event were committed with the change that caused it
    /// (<see cref="ICommittedFeedShelves"/>), so publishing it records it for the others only. Null for most events.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? RecordedFor { get; init; }

    /// <summary>
    /// On an <c>order.shipped</c> event, what its shipment bills (<see cref="ShipmentUsage"/>); null on every other
    /// event and on shipped events committed before it was carried (billing then reads the order). Internal to the app:
    /// webhooks and the catch-up feed carry <see cref="Data"/> only.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ShipmentUsage? Usage { get; init; }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public OutboxMessage ToOutboxMessage() => new(Id, Queue, JsonSerializer.Serialize(this, Json));

    public static EventEnvelope Parse(string text) =>
        JsonSerializer.Deserialize<EventEnvelope>(text, Json) ?? throw new JsonException("Empty event.");
}
