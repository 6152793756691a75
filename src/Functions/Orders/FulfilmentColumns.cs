using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Orders;

/// <summary>
/// The fulfilment-protocol columns of the order row: <c>RequestedAt</c>/<c>AcceptedAt</c>/<c>RequestOverdueAt</c>
/// (the request of the current delegation), and <c>Shipments</c>, <c>Holds</c>, <c>ReleasedHolds</c>, <c>Rejections</c> as JSON with wire
/// names. A table property holds at most 32 K UTF-16 characters, so a JSON value longer than
/// <see cref="ChunkLength"/> continues in <c>{name}_2</c>, <c>{name}_3</c>, …; the order's size as JSON is bounded
/// by <see cref="ChangeOrderStatus.MaxOrderJsonBytes"/>, so a few chunks at most. Rows written before the protocol
/// existed (one shipment in <c>Carrier</c>/<c>Service</c>/<c>TrackingNumber</c>/<c>ShippedAt</c>, no request
/// columns) are read as one whole-order shipment and an accepted request.
/// </summary>
public static class FulfilmentColumns
{
    public const int ChunkLength = 30_000;

    private sealed record HoldJson(string Id, string Reason, string? Note, string PlacedBy, DateTimeOffset PlacedAt);

    private sealed record ReleasedHoldJson(string Id, string PlacedBy);

    private sealed record RejectionJson(string ConnectionId, string Reason, string? Message, List<RejectionLine> Lines, DateTimeOffset RejectedAt);

    public static void Write(TableEntity entity, OrderState state)
    {
        if (state.Shipments.Count > 0)
        {
            WriteJson(entity, "Shipments", JsonSerializer.Serialize(state.Shipments, EventEnvelope.Json));
        }
        if (state.Holds.Count > 0)
        {
            WriteJson(entity, "Holds", JsonSerializer.Serialize(
                state.Holds.Select(h => new HoldJson(h.Id, FulfilmentNames.ToWire(h.Reason), h.Note, PartyNames.ToWire(h.PlacedBy), h.PlacedAt)), EventEnvelope.Json));
        }
        if (state.ReleasedHolds.Count > 0)
        {
            WriteJson(entity, "ReleasedHolds", JsonSerializer.Serialize(
                state.ReleasedHolds.Select(h => new ReleasedHoldJson(h.Id, PartyNames.ToWire(h.PlacedBy))), EventEnvelope.Json));
        }
        if (state.Rejections.Count > 0)
        {
            WriteJson(entity, "Rejections", JsonSerializer.Serialize(
                state.Rejections.Select(r => new RejectionJson(r.ConnectionId.Value, FulfilmentNames.ToWire(r.Reason), r.Message, [.. r.Lines], r.RejectedAt)), EventEnvelope.Json));
        }
    }

    public static FulfilmentRequest ReadRequest(TableEntity row, OrderStatus status, DateTimeOffset updatedAt) =>
        row.GetDateTimeOffset("RequestedAt") is { } requestedAt
            ? new FulfilmentRequest(requestedAt, row.GetDateTimeOffset("AcceptedAt"), row.GetDateTimeOffset("RequestOverdueAt"))
            : new FulfilmentRequest(updatedAt, status == OrderStatus.AwaitingShipment ? null : updatedAt, null);

    public static IReadOnlyList<Shipment> ReadShipments(TableEntity row, OrderId order, IReadOnlyList<OrderLine> lines)
    {
        if (ReadJson(row, "Shipments") is { } json)
        {
            return JsonSerializer.Deserialize<List<Shipment>>(json, EventEnvelope.Json)!;
        }
        if (row.GetString("Carrier") is { } carrier)
        {
            return [new Shipment(LegacyShipmentId(order), carrier, row.GetString("Service") ?? "", row.GetString("TrackingNumber") ?? "",
                lines.Select(l => new ShipmentLine(l.Sku, l.Quantity)).ToArray(), row.GetDateTimeOffset("ShippedAt") ?? default)];
        }
        return [];
    }

    public static IReadOnlyList<Hold> ReadHolds(TableEntity row)
    {
        if (ReadJson(row, "Holds") is not { } json)
        {
            return [];
        }
        return JsonSerializer.Deserialize<List<HoldJson>>(json, EventEnvelope.Json)!.Select(h =>
        {
            FulfilmentNames.TryParse(h.Reason, out HoldReason reason);
            PartyNames.TryParse(h.PlacedBy, out Party party);
            return new Hold(h.Id, reason, h.Note, party, h.PlacedAt);
        }).ToArray();
    }

    /// <summary>Rows written before released holds were remembered have none: a release retried on them is <c>hold_not_found</c>.</summary>
    public static IReadOnlyList<ReleasedHold> ReadReleasedHolds(TableEntity row)
    {
        if (ReadJson(row, "ReleasedHolds") is not { } json)
        {
            return [];
        }
        return JsonSerializer.Deserialize<List<ReleasedHoldJson>>(json, EventEnvelope.Json)!.Select(h =>
        {
            PartyNames.TryParse(h.PlacedBy, out Party party);
            return new ReleasedHold(h.Id, party);
        }).ToArray();
    }

    public static IReadOnlyList<Rejection> ReadRejections(TableEntity row)
    {
        if (ReadJson(row, "Rejections") is not { } json)
        {
            return [];
        }
        return JsonSerializer.Deserialize<List<RejectionJson>>(json, EventEnvelope.Json)!.Select(r =>
        {
            FulfilmentNames.TryParse(r.Reason, out RejectionReason reason);
            return new Rejection(ConnectionId.Parse(r.ConnectionId), reason, r.Message, r.Lines, r.RejectedAt);
        }).ToArray();
    }

    /// <summary>The id of the one shipment a row written before split shipments holds: fixed per order, so it never changes between reads.</summary>
    public static string LegacyShipmentId(OrderId order) =>
        Identifier.From(Shipment.IdPrefix, SHA256.HashData(Encoding.UTF8.GetBytes(order.Value + "|shipment")));

    private static void WriteJson(TableEntity entity, string name, string json)
    {
        for (int offset = 0, part = 1; offset < json.Length; offset += ChunkLength, part++)
        {
            entity[part == 1 ? name : $"{name}_{part}"] = json.Substring(offset, Math.Min(ChunkLength, json.Length - offset));
        }
    }

    private static string? ReadJson(TableEntity row, string name)
    {
        if (row.GetString(name) is not { } first)
        {
            return null;
        }
        var json = new StringBuilder(first);
        for (var part = 2; row.GetString($"{name}_{part}") is { } next; part++)
        {
            json.Append(next);
        }
        return json.ToString();
    }
}
