using System.Text.Json;

namespace ThreePL.LocalHost;

/// <summary>
/// Loads <c>host.json</c> into configuration under <c>AzureFunctionsJobHost</c>, the section name the
/// Functions host itself uses, so <c>AzureFunctionsJobHost__extensions__queues__batchSize</c> overrides a
/// value in both hosts.
/// </summary>
public static class HostJson
{
    public const string FileName = "host.json";
    public const string Section = "AzureFunctionsJobHost";

    public static string? Find(params string[] directories) =>
        directories.Select(d => Path.Combine(d, FileName)).FirstOrDefault(File.Exists);

    public static IDictionary<string, string?> Load(string path)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        using var document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        Flatten(document.RootElement, Section, values);
        return values;
    }

    private static void Flatten(JsonElement element, string prefix, IDictionary<string, string?> values)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Flatten(property.Value, $"{prefix}:{property.Name}", values);
                }
                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Flatten(item, $"{prefix}:{index++}", values);
                }
                break;
            case JsonValueKind.String:
                values[prefix] = element.GetString();
                break;
            case JsonValueKind.Null:
                values[prefix] = null;
                break;
            default:
                values[prefix] = element.GetRawText();
                break;
        }
    }
}
