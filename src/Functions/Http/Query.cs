using System.Globalization;

namespace ThreePL.Functions.Http;

/// <summary>Query-string values as the API reads them: a malformed one is a 400 naming the parameter.</summary>
public static class Query
{
    public static string? Text(HttpRequest request, string name) =>
        request.Query.TryGetValue(name, out var values) ? values.ToString() : null;

    public static int? Int(HttpRequest request, string name)
    {
        var text = Text(request, name);
        if (text is null)
        {
            return null;
        }
        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ApiProblemException(Problems.Create(StatusCodes.Status400BadRequest, "bad_request", "The request could not be read.",
                $"Query parameter '{name}' must be an integer.", new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [name] = ["Must be an integer."] } }));
    }
}
