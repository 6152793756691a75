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
            : throw new ApiProblemException(Problems.Validation(name, "Must be an integer."));
    }
}
