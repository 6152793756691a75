using Microsoft.AspNetCore.Http.HttpResults;

namespace ThreePL.Functions.Http;

/// <summary>
/// The one pipeline every HTTP function passes through, under the Functions host and the development host
/// alike: correlation id and log scope, the body limit, authentication and the permission the function
/// declares, the refusal of scoped callers where the function declares it, reading the JSON body, exceptions turned into problems (client mistakes as 4xx, storage trouble
/// as 503 with <c>Retry-After</c>, bugs as a bare 500), the correlation id in every problem, and the audit of
/// requests made with a "log in to brand" token.
/// </summary>
public sealed class HttpApi(Authenticator authenticator, RequestBody body, ILogger<HttpApi> logger)
{
    public const string RetryAfterSeconds = "5";

    public const string ScopedKeyNotAllowed = "scoped_key_not_allowed";

    /// <summary>A function anyone may call: pages, probes, the API document.</summary>
    public Task<IResult> RunPublicAsync<TResult>(HttpRequest request, Func<CancellationToken, Task<TResult>> handle)
        where TResult : IResult =>
        ExecuteAsync(request, Access.Public, async (_, ct) => await handle(ct).ConfigureAwait(false));

    /// <summary>A function for keys only: the caller is always there.</summary>
    public Task<IResult> RunAsync<TResult>(HttpRequest request, Access access, Func<Caller, CancellationToken, Task<TResult>> handle)
        where TResult : IResult =>
        ExecuteAsync(request, RequireKey(access), async (caller, ct) => await handle(caller!, ct).ConfigureAwait(false));

    /// <summary>A function for keys with a JSON body; <paramref name="bodyRequired"/> false lets it be absent.</summary>
    public Task<IResult> RunAsync<TBody, TResult>(HttpRequest request, Access access, Func<Caller, TBody, CancellationToken, Task<TResult>> handle, bool bodyRequired = true)
        where TResult : IResult =>
        ExecuteAsync(request, RequireKey(access), async (caller, ct) =>
        {
            var value = await body.ReadAsync<TBody>(request, bodyRequired, ct).ConfigureAwait(false);
            return await handle(caller!, value!, ct).ConfigureAwait(false);
        });

    /// <summary>An operator function without a body.</summary>
    public Task<IResult> RunOperatorAsync<TResult>(HttpRequest request, Func<CancellationToken, Task<TResult>> handle)
        where TResult : IResult =>
        ExecuteAsync(request, Access.Operator, async (_, ct) => await handle(ct).ConfigureAwait(false));

    /// <summary>An operator function with a JSON body.</summary>
    public Task<IResult> RunOperatorAsync<TBody, TResult>(HttpRequest request, Func<TBody, CancellationToken, Task<TResult>> handle)
        where TResult : IResult =>
        ExecuteAsync(request, Access.Operator, async (_, ct) =>
        {
            var value = await body.ReadAsync<TBody>(request, required: true, ct).ConfigureAwait(false);
            return await handle(value!, ct).ConfigureAwait(false);
        });

    private static Access RequireKey(Access access) => access.Kind == AccessKind.Key
        ? access
        : throw new ArgumentException("This overload is for functions that API keys call.", nameof(access));

    private async Task<IResult> ExecuteAsync(HttpRequest request, Access access, Func<Caller?, CancellationToken, Task<IResult>> handle)
    {
        var context = request.HttpContext;
        var correlationId = CorrelationId.Establish(context);
        using var requestScope = logger.BeginScope(new Dictionary<string, object> { ["CorrelationId"] = correlationId });
        Caller? caller = null;
        IResult result;
        try
        {
            if (request.ContentLength > RequestBody.MaxBytes)
            {
                throw RequestBody.TooLarge();
            }
            switch (access.Kind)
            {
                case AccessKind.Public:
                    result = await handle(null, context.RequestAborted).ConfigureAwait(false);
                    break;
                case AccessKind.Operator:
                    result = authenticator.IsOperator(request)
                        ? await handle(null, context.RequestAborted).ConfigureAwait(false)
                        : Unauthorized(context, "A valid operator key is required.");
                    break;
                default:
                    caller = await authenticator.AuthenticateAsync(request, context.RequestAborted).ConfigureAwait(false);
                    result = caller is null ? Unauthorized(context, "A valid, enabled API key is required (Authorization: Bearer <key>).")
                        : access.Permission is { } permission && !caller.Permissions.Allows(permission)
                            ? Problems.Forbidden("missing_permission", $"This API key lacks the '{permission}' permission.")
                        : caller.Scope is not null && access.ScopedCallers == ScopedCallers.Refused
                            ? Problems.Forbidden(ScopedKeyNotAllowed, "A key or brand token scoped to one connection cannot use this endpoint: it acts on the whole account.")
                            : await RunAsCallerAsync(caller, handle, context.RequestAborted).ConfigureAwait(false);
                    break;
            }
        }
        catch (ApiProblemException ex)
        {
            result = ex.Problem;
        }
        catch (Exception ex) when (Infrastructure.TransientFailure.Is(ex) && !context.RequestAborted.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Storage unavailable while serving {Method} {Path}", request.Method, request.Path);
            context.Response.Headers.RetryAfter = RetryAfterSeconds;
            result = Problems.Create(StatusCodes.Status503ServiceUnavailable, "storage_unavailable", "Storage is temporarily unavailable.", "Try again in a few seconds.");
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested)
        {
            logger.LogError(ex, "Unhandled exception");
            result = Problems.Create(StatusCodes.Status500InternalServerError, "internal_error", "An unexpected error occurred.");
        }
        AddCorrelationId(result, correlationId);
        if (caller?.OnBehalfOf is not null)
        {
            await authenticator.RecordImpersonatedRequestAsync(caller, request, StatusOf(result)).ConfigureAwait(false);
        }
        return result;
    }

    private async Task<IResult> RunAsCallerAsync(Caller caller, Func<Caller?, CancellationToken, Task<IResult>> handle, CancellationToken cancellationToken)
    {
        using var callerScope = logger.BeginScope(new Dictionary<string, object> { ["AccountId"] = caller.AccountId.Value, ["KeyId"] = caller.KeyId.Value });
        return await handle(caller, cancellationToken).ConfigureAwait(false);
    }

    private static ProblemHttpResult Unauthorized(HttpContext context, string detail)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return Problems.Create(StatusCodes.Status401Unauthorized, "unauthorized", "Authentication is required.", detail);
    }

    private static void AddCorrelationId(IResult result, string correlationId)
    {
        if (Unwrap(result) is ProblemHttpResult problem)
        {
            problem.ProblemDetails.Extensions["correlationId"] = correlationId;
        }
    }

    private static int StatusOf(IResult result) =>
        Unwrap(result) is IStatusCodeHttpResult { StatusCode: { } status } ? status : StatusCodes.Status200OK;

    private static IResult Unwrap(IResult result)
    {
        while (result is INestedHttpResult nested)
        {
            result = nested.Result;
        }
        return result;
    }
}
