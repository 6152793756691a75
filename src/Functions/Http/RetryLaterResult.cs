using Microsoft.AspNetCore.Http.HttpResults;

namespace ThreePL.Functions.Http;

/// <summary>
/// A 503 problem with <c>Retry-After</c> in whole seconds (rounded up, at least 1), as a value a handler returns:
/// the header belongs to the answer, so the handler that decides to refuse also says when to come back.
/// </summary>
public sealed class RetryLaterResult(ProblemHttpResult problem, TimeSpan retryAfter) : IResult, INestedHttpResult, IStatusCodeHttpResult
{
    public IResult Result => problem;

    public int? StatusCode => problem.StatusCode;

    public string RetryAfterSeconds { get; } = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds;
        return problem.ExecuteAsync(httpContext);
    }
}
