using System.Diagnostics;
using System.Text.RegularExpressions;

namespace ThreePL.Functions.Http;

/// <summary>
/// Every request gets a correlation id: the caller's <c>X-Correlation-Id</c> when it is sane, else the trace
/// id. It goes into the log scope of everything the request does, into the response header and into every
/// problem, so a support conversation can start from what the client saw.
/// </summary>
public static partial class CorrelationId
{
    public const string Header = "X-Correlation-Id";

    public static string Get(HttpContext context) =>
        context.Items.TryGetValue(Header, out var value) && value is string id ? id : context.TraceIdentifier;

    /// <summary>Chooses the request's id, remembers it for <see cref="Get"/> and echoes it in the response.</summary>
    public static string Establish(HttpContext context)
    {
        var supplied = context.Request.Headers[Header].ToString();
        var id = supplied.Length is > 0 and <= 64 && SafeId().IsMatch(supplied)
            ? supplied
            : Activity.Current?.TraceId.ToString() ?? context.TraceIdentifier;
        context.Items[Header] = id;
        context.Response.Headers[Header] = id;
        return id;
    }

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex SafeId();
}
