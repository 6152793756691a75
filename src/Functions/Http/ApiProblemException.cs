using Microsoft.AspNetCore.Http.HttpResults;

namespace ThreePL.Functions.Http;

/// <summary>
/// A client mistake found while reading the request (its body, a query value): <see cref="HttpApi"/> answers
/// with <see cref="Problem"/>. Thrown only before a handler has changed anything.
/// </summary>
public sealed class ApiProblemException(ProblemHttpResult problem) : Exception(problem.ProblemDetails.Detail)
{
    public ProblemHttpResult Problem { get; } = problem;
}
