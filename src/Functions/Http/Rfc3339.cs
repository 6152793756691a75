using System.Globalization;
using System.Text.RegularExpressions;
using ThreePL.Domain.Common;

namespace ThreePL.Functions.Http;

/// <summary>
/// Timestamps in query strings: RFC 3339 with an explicit offset (<c>Z</c> or <c>±hh:mm</c>), so the instant never
/// depends on the server's time zone. A <c>+</c> must be sent as <c>%2B</c>: a bare one decodes to a space.
/// </summary>
public static partial class Rfc3339
{
    public static DateTimeOffset? Parse(string? text, string field, FieldErrors errors)
    {
        if (text is null)
        {
            return null;
        }
        if (text.Length <= 40 && Format().IsMatch(text)
            && DateTimeOffset.TryParse(text.ToUpperInvariant(), CultureInfo.InvariantCulture, DateTimeStyles.None, out var value))
        {
            return value;
        }
        errors.Add(field, "Must be an RFC 3339 date-time with an offset, such as 2026-11-20T08:00:00Z (send + as %2B).");
        return null;
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,7})?([Zz]|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex Format();
}
