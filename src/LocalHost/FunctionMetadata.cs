using System.Text.Json;
using System.Text.Json.Serialization;

namespace ThreePL.LocalHost;

/// <summary>One entry of the Worker SDK's <c>functions.metadata</c>, the manifest the Functions host loads.</summary>
public sealed record FunctionMetadata(string Name, string ScriptFile, string EntryPoint, IReadOnlyList<BindingMetadata> Bindings)
{
    public const string FileName = "functions.metadata";

    private static readonly JsonSerializerOptions s_json = new() { PropertyNameCaseInsensitive = true };

    /// <summary>The trigger binding: every function has exactly one.</summary>
    public BindingMetadata Trigger => Bindings.Single(b => b.Type.EndsWith("Trigger", StringComparison.Ordinal));

    public static IReadOnlyList<FunctionMetadata> Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No {FileName} at {path}: build src/Functions (the Worker SDK writes it).", path);
        }
        return JsonSerializer.Deserialize<List<FunctionMetadata>>(File.ReadAllText(path), s_json)
            ?? throw new InvalidDataException($"{path} is empty.");
    }

    /// <summary>The manifest next to the running host, where the reference to the Functions project puts it.</summary>
    public static IReadOnlyList<FunctionMetadata> LoadDefault() => Load(Path.Combine(AppContext.BaseDirectory, FileName));
}

public sealed record BindingMetadata(
    string Name,
    string Type,
    string Direction,
    string? Route,
    IReadOnlyList<string>? Methods,
    string? QueueName,
    string? Connection,
    string? Schedule)
{
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Other { get; init; }
}
