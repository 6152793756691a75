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

    public static IApplicationBuilder UseCorrelationId(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var supplied = context.Request.Headers[Header].ToString();
        var id = supplied.Length is > 0 and <= 64 && SafeId().IsMatch(supplied)
            ? supplied
            : Activity.Current?.TraceId.ToString() ?? context.TraceIdentifier;
        context.Items[Header] = id;
        context.Response.Headers[Header] = id;
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("ThreePL.Request");
        using (logger.BeginScope(new Dictionary<string, object> { ["CorrelationId"] = id }))
        {
            await next(context).ConfigureAwait(false);
        }
    });

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex SafeId();
}
