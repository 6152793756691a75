using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Billing;

public sealed record UsageLineResponse(
    string OrderId, string ExternalId, string ConnectionId, string MerchantAccountId, string ThreePlAccountId,
    string BilledTo, DateTimeOffset ShippedAt, string Carrier, string Service, string TrackingNumber);

public sealed record UsageConnectionResponse(string ConnectionId, int Shipments, IReadOnlyList<UsageLineResponse> Lines);

public sealed record UsageReportResponse(string AccountId, string Month, int TotalShipments, IReadOnlyList<UsageConnectionResponse> Connections);

/// <summary>
/// <c>GET /v1/billing/usage?month=YYYY-MM</c>: the order-fee lines billed to the caller's own account for
/// shipments in that month (UTC), grouped per connection with a count each. Either party reads only what is
/// billed to itself (both places a line may be, <see cref="UsageStore.ListAsync"/>, are partitions of the caller's
/// account; nothing in the request names another), and a scoped key only its connection's lines.
/// <c>Accept: text/csv</c> gives the lines as CSV instead.
/// </summary>
public sealed partial class GetUsage(UsageStore store)
{
    public async Task<Results<Ok<UsageReportResponse>, ContentHttpResult, ProblemHttpResult>> HandleAsync(Caller caller, string? month, HttpRequest request, CancellationToken cancellationToken)
    {
        if (month is null)
        {
            return Problems.Validation("month", "This field is required (YYYY-MM).");
        }
        if (!MonthPattern().IsMatch(month))
        {
            return Problems.Validation("month", "Must be a month as YYYY-MM, e.g. 2026-11.");
        }
        var lines = await store.ListAsync(caller.AccountId, caller.Kind, month, caller.Scope, cancellationToken).ConfigureAwait(false);
        var ordered = lines.OrderBy(l => l.ConnectionId.Value, StringComparer.Ordinal).ThenBy(l => l.ShippedAt).ThenBy(l => l.OrderId.Value, StringComparer.Ordinal)
            .ThenBy(l => l.ShipmentId, StringComparer.Ordinal).ToList();
        if (WantsCsv(request))
        {
            return TypedResults.Text(Csv(ordered), "text/csv; charset=utf-8", Encoding.UTF8);
        }
        var groups = ordered.GroupBy(l => l.ConnectionId.Value, StringComparer.Ordinal)
            .Select(g => new UsageConnectionResponse(g.Key, g.Count(), g.Select(Map).ToList()))
            .ToList();
        return TypedResults.Ok(new UsageReportResponse(caller.AccountId.Value, month, ordered.Count, groups));
    }

    private static UsageLineResponse Map(UsageLine l) => new(
        l.OrderId.Value, l.ExternalId, l.ConnectionId.Value, l.MerchantAccountId.Value, l.ThreePlAccountId.Value,
        PartyNames.ToWire(l.BilledTo), l.ShippedAt, l.Carrier, l.Service, l.TrackingNumber);

    /// <summary>CSV when <c>Accept</c> names <c>text/csv</c> and does not prefer JSON over it.</summary>
    private static bool WantsCsv(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted))
        {
            return false;
        }
        double Quality(string type) => accepted.Where(a => a.MediaType.Equals(type, StringComparison.OrdinalIgnoreCase)).Select(a => a.Quality ?? 1).DefaultIfEmpty(0).Max();
        var csv = Quality("text/csv");
        return csv > 0 && csv >= Quality("application/json");
    }

    public static readonly string[] CsvHeader = ["connectionId", "orderId", "externalId", "shippedAt", "carrier", "service", "trackingNumber", "billedTo"];

    /// <summary>RFC 4180: CRLF line ends, a header row, fields quoted when they hold a comma, quote or line break.</summary>
    public static string Csv(IEnumerable<UsageLine> lines)
    {
        var builder = new StringBuilder();
        builder.Append(string.Join(',', CsvHeader)).Append("\r\n");
        foreach (var l in lines)
        {
            string[] fields =
            [
                l.ConnectionId.Value, l.OrderId.Value, l.ExternalId,
                l.ShippedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                l.Carrier, l.Service, l.TrackingNumber, PartyNames.ToWire(l.BilledTo),
            ];
            builder.Append(string.Join(',', fields.Select(Field))).Append("\r\n");
        }
        return builder.ToString();
    }

    /// <summary>
    /// Quotes where CSV needs it, and defuses spreadsheet formulas: a value the merchant or 3PL chose (an
    /// external id, a tracking number) that starts with <c>= + - @</c> or a tab gets a leading <c>'</c>, so a
    /// spreadsheet shows it instead of evaluating it (OWASP "CSV injection").
    /// </summary>
    public static string Field(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }
        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    [GeneratedRegex(@"^(20[0-9]{2}|2[1-9][0-9]{2})-(0[1-9]|1[0-2])\z", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex MonthPattern();
}
