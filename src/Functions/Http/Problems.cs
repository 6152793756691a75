using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace ThreePL.Functions.Http;

/// <summary>
/// RFC 9457 problems with the stable machine <c>code</c> every client switches on. All error responses of
/// the API are built here; an unexpected exception becomes one in <see cref="HttpApi"/> (503 <c>storage_unavailable</c>
/// for a transient storage failure, else 500 <c>internal_error</c>).
/// </summary>
public static class Problems
{
    public static ProblemHttpResult Create(int status, string code, string title, string? detail = null, IDictionary<string, object?>? extensions = null)
    {
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail, Type = TypeFor(code) };
        problem.Extensions["code"] = code;
        foreach (var (key, value) in extensions ?? new Dictionary<string, object?>())
        {
            problem.Extensions[key] = value;
        }
        return TypedResults.Problem(problem);
    }

    public static ProblemHttpResult Validation(IReadOnlyDictionary<string, string[]> errors, string? detail = null)
    {
        var problem = new HttpValidationProblemDetails(errors.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal))
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "The request is invalid.",
            Detail = detail ?? "One or more fields are invalid; see errors.",
            Type = TypeFor("validation_failed"),
        };
        problem.Extensions["code"] = "validation_failed";
        return TypedResults.Problem(problem);
    }

    public static ProblemHttpResult Validation(string field, string message) =>
        Validation(new Dictionary<string, string[]> { [field] = [message] });

    public static ProblemHttpResult NotFound(string what) =>
        Create(StatusCodes.Status404NotFound, "not_found", $"The {what} was not found.");

    public static ProblemHttpResult Conflict(string code, string detail, IDictionary<string, object?>? extensions = null) =>
        Create(StatusCodes.Status409Conflict, code, "The request conflicts with the current state.", detail, extensions);

    public static ProblemHttpResult Forbidden(string code, string detail) =>
        Create(StatusCodes.Status403Forbidden, code, "The request is not allowed.", detail);

    public static ProblemHttpResult PreconditionFailed(string detail) =>
        Create(StatusCodes.Status412PreconditionFailed, "precondition_failed", "The resource has changed.", detail);

    /// <summary>503 <c>overloaded</c>: the work behind this request is backed up; come back after <paramref name="retryAfter"/>.</summary>
    public static RetryLaterResult Overloaded(string detail, TimeSpan retryAfter) =>
        new(Create(StatusCodes.Status503ServiceUnavailable, "overloaded", "The service is overloaded.", detail), retryAfter);

    public static string TypeFor(string code) => $"https://docs.threepl.connect/problems/{code}";
}
