using System.Text.Json;

namespace ThreePL.LocalHost;

/// <summary>
/// Reads the Functions-style <c>local.settings.json</c> (or the committed sample when there is none) so the
/// development host and the Functions host (Core Tools reads the same file) agree on configuration. Values sit below environment variables:
/// an operator's environment always wins over a file in the repository.
/// </summary>
public static class LocalSettings
{
    public const string FileName = "local.settings.json";
    public const string SampleFileName = "local.settings.sample.json";

    public static IDictionary<string, string?> Load(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            path = Path.Combine(directory, SampleFileName);
        }
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (!File.Exists(path))
        {
            return values;
        }
        using var document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        if (document.RootElement.TryGetProperty("Values", out var settings) && settings.ValueKind == JsonValueKind.Object)
        {
            foreach (var setting in settings.EnumerateObject())
            {
                values[setting.Name.Replace("__", ":", StringComparison.Ordinal)] = setting.Value.ValueKind switch
                {
                    JsonValueKind.String => setting.Value.GetString(),
                    JsonValueKind.Null => null,
                    _ => setting.Value.GetRawText(),
                };
            }
        }
        return values;
    }
}
