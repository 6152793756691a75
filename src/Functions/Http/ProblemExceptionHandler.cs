using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace ThreePL.Functions.Http;

/// <summary>
/// The one place exceptions become problems. Client mistakes the framework detects (malformed JSON, a wrong
/// type, a body over the limit) arrive as <see cref="BadHttpRequestException"/> and become 4xx with the
/// offending field named; anything else is our bug and becomes a 500 without internals.
/// </summary>
public sealed class ProblemExceptionHandler(IProblemDetailsService problemDetails, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var problem = exception switch
        {
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => TooLarge(),
            BadHttpRequestException bad => FromBadRequest(bad),
            _ when Infrastructure.TransientFailure.Is(exception) => Unavailable(httpContext),
            _ => null,
        };
        if (problem is null)
        {
            logger.LogError(exception, "Unhandled exception");
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status500InternalServerError,
                Title = "An unexpected error occurred.",
                Type = Problems.TypeFor("internal_error"),
            };
            problem.Extensions["code"] = "internal_error";
        }
        httpContext.Response.StatusCode = problem.Status!.Value;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        }).ConfigureAwait(false);
    }

    /// <summary>Storage is struggling: say so, and when to come back, instead of a bare 500.</summary>
    private ProblemDetails Unavailable(HttpContext httpContext)
    {
        logger.LogWarning("Storage unavailable while serving {Method} {Path}", httpContext.Request.Method, httpContext.Request.Path);
        httpContext.Response.Headers.RetryAfter = "5";
        var problem = new ProblemDetails
        {
            Status = StatusCodes.Status503ServiceUnavailable,
            Title = "Storage is temporarily unavailable.",
            Detail = "Try again in a few seconds.",
            Type = Problems.TypeFor("storage_unavailable"),
        };
        problem.Extensions["code"] = "storage_unavailable";
        return problem;
    }

    public static ProblemDetails TooLarge()
    {
        var problem = new ProblemDetails
        {
            Status = StatusCodes.Status413PayloadTooLarge,
            Title = "The request body is too large.",
            Detail = $"Request bodies are limited to {RequestLimits.MaxBodyBytes} bytes.",
            Type = Problems.TypeFor("payload_too_large"),
        };
        problem.Extensions["code"] = "payload_too_large";
        return problem;
    }

    private static ProblemDetails FromBadRequest(BadHttpRequestException exception)
    {
        if (exception.InnerException is JsonException json)
        {
            var field = JsonPathToField(json.Path);
            var message = field.Length == 0 ? "The body is not valid JSON." : "The value has the wrong type or is not valid JSON.";
            var problem = new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field.Length == 0 ? "$" : field] = [message] })
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "The request body could not be read.",
                Detail = message,
                Type = Problems.TypeFor("malformed_json"),
            };
            problem.Extensions["code"] = "malformed_json";
            return problem;
        }
        var (code, detail) = exception.Message.Contains("Content-Type", StringComparison.OrdinalIgnoreCase)
            ? ("unsupported_media_type", "Send the body as application/json.")
            : exception.Message.Contains("body was inferred", StringComparison.OrdinalIgnoreCase) || exception.Message.Contains("Required parameter", StringComparison.OrdinalIgnoreCase)
                ? ("body_required", "A JSON body is required.")
                : ("bad_request", "The request could not be understood.");
        var status = code == "unsupported_media_type" ? StatusCodes.Status415UnsupportedMediaType : StatusCodes.Status400BadRequest;
        var result = new ProblemDetails { Status = status, Title = "The request could not be read.", Detail = detail, Type = Problems.TypeFor(code) };
        result.Extensions["code"] = code;
        return result;
    }

    /// <summary>Turns System.Text.Json's <c>$.lines[3].quantity</c> into the field name <c>lines[3].quantity</c>.</summary>
    private static string JsonPathToField(string? path) =>
        path is null or "$" ? "" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
}
