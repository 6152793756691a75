using System.Net;
using System.Text.Json;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Security;

public sealed record ApiOperation(string Method, string Path, IReadOnlyList<string> QueryParameters, bool HasBody)
{
    public bool HasId => Path.Contains("{id}", StringComparison.Ordinal);

    public bool IsAdmin => Path.StartsWith("/v1/admin", StringComparison.Ordinal);

    public string With(string id) => Path.Replace("{id}", Uri.EscapeDataString(id), StringComparison.Ordinal);

    public override string ToString() => $"{Method} {Path}";
}

/// <summary>
/// Every operation of the API, read from the app's own OpenAPI document, so the security suites cover each
/// endpoint that exists, including ones added after the suites were written.
/// </summary>
public static class ApiSurface
{
    public static async Task<IReadOnlyList<ApiOperation>> ReadAsync(TestApp app)
    {
        using var client = app.CreateClient();
        var document = await ApiAssert.Json(await client.GetAsync("/openapi/v1.json"), HttpStatusCode.OK);
        var operations = new List<ApiOperation>();
        foreach (var path in document.GetProperty("paths").EnumerateObject().Where(p => p.Name.StartsWith("/v1/", StringComparison.Ordinal)))
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var query = operation.Value.TryGetProperty("parameters", out var parameters)
                    ? parameters.EnumerateArray().Where(p => p.GetProperty("in").GetString() == "query").Select(p => p.GetProperty("name").GetString()!).ToList()
                    : [];
                operations.Add(new ApiOperation(operation.Name.ToUpperInvariant(), path.Name, query, operation.Value.TryGetProperty("requestBody", out _)));
            }
        }
        return operations;
    }
}
