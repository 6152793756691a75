using System.Globalization;
using System.Text.Json;
using Azure;

namespace ThreePL.Functions.Storage.Tables;

/// <summary>
/// Entity JSON in the OData form the table service speaks. Types JSON cannot carry (Int64, DateTime, Guid,
/// Binary, and Double so a whole number stays a double) travel with <c>@odata.type</c> annotations.
/// </summary>
internal static class TableEntitySerializer
{
    // Service limits, checked here so callers get a clear ArgumentException instead of a terse 400.
    internal const int MaxKeyLength = 1024;
    internal const int MaxStringLength = 32 * 1024;
    internal const int MaxEntityBytes = 1024 * 1024;
    internal const int MaxCustomProperties = 252;

    private const string TypeSuffix = "@odata.type";

    public static byte[] Serialize(TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        ValidateKey(entity.PartitionKey, "PartitionKey");
        ValidateKey(entity.RowKey, "RowKey");

        var custom = entity.Where(p => p.Key is not (TableEntity.PartitionKeyName or TableEntity.RowKeyName or TableEntity.TimestampName)).ToList();
        if (custom.Count > MaxCustomProperties)
        {
            throw new ArgumentException($"An entity holds at most {MaxCustomProperties} properties besides its keys; this one has {custom.Count}.", nameof(entity));
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString(TableEntity.PartitionKeyName, entity.PartitionKey);
            writer.WriteString(TableEntity.RowKeyName, entity.RowKey);
            foreach (var (name, value) in custom)
            {
                WriteProperty(writer, name, value);
            }

            writer.WriteEndObject();
        }

        if (buffer.Length > MaxEntityBytes)
        {
            throw new ArgumentException($"Entity ({entity.PartitionKey}, {entity.RowKey}) serializes to {buffer.Length} bytes; the limit is 1 MiB.", nameof(entity));
        }

        return buffer.ToArray();
    }

    public static TableEntity Deserialize(JsonElement element)
    {
        var entity = new TableEntity();
        foreach (var property in element.EnumerateObject())
        {
            var name = property.Name;
            if (name.EndsWith(TypeSuffix, StringComparison.Ordinal))
            {
                continue;
            }

            if (name == "odata.etag")
            {
                entity.ETag = new ETag(property.Value.GetString()!);
                continue;
            }

            if (name.StartsWith("odata.", StringComparison.Ordinal))
            {
                continue;
            }

            var type = element.TryGetProperty(name + TypeSuffix, out var annotation) ? annotation.GetString() : null;
            if (name == TableEntity.TimestampName)
            {
                // Service-owned and sent without an annotation: its type is fixed by the protocol.
                entity.Timestamp = (DateTimeOffset)ReadValue(name, property.Value, "Edm.DateTime")!;
                continue;
            }

            var value = ReadValue(name, property.Value, type);

            entity[name] = value;
        }

        return entity;
    }

    public static void ValidateKey(string? key, string name)
    {
        if (key is null)
        {
            throw new ArgumentNullException(name);
        }

        if (key.Length > MaxKeyLength)
        {
            throw new ArgumentException($"{name} is {key.Length} characters; the limit is {MaxKeyLength}.", name);
        }

        foreach (var c in key)
        {
            if (c is '/' or '\\' or '#' or '?' || char.IsControl(c))
            {
                throw new ArgumentException($"{name} must not contain '/', '\\', '#', '?' or control characters.", name);
            }
        }
    }

    private static void WriteProperty(Utf8JsonWriter writer, string name, object? value)
    {
        switch (value)
        {
            case null:
                // The service has no null: an absent property is the only way to say it.
                return;
            case string s:
                if (s.Length > MaxStringLength)
                {
                    throw new ArgumentException($"Property '{name}' is {s.Length} characters; a string holds at most {MaxStringLength}.");
                }

                writer.WriteString(name, s);
                return;
            case int i:
                writer.WriteNumber(name, i);
                return;
            case bool b:
                writer.WriteBoolean(name, b);
                return;
            case long l:
                WriteAnnotated(writer, name, "Edm.Int64", l.ToString(CultureInfo.InvariantCulture));
                return;
            case double d:
                writer.WriteString(name + TypeSuffix, "Edm.Double");
                if (double.IsFinite(d))
                {
                    writer.WriteNumber(name, d);
                }
                else
                {
                    writer.WriteString(name, double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
                }

                return;
            case DateTimeOffset dto:
                WriteAnnotated(writer, name, "Edm.DateTime", FormatDateTime(dto));
                return;
            case DateTime dt:
                WriteAnnotated(writer, name, "Edm.DateTime", FormatDateTime(TableEntity.ToDateTimeOffset(dt)));
                return;
            case Guid g:
                WriteAnnotated(writer, name, "Edm.Guid", g.ToString("D"));
                return;
            case byte[] bytes:
                WriteAnnotated(writer, name, "Edm.Binary", Convert.ToBase64String(bytes));
                return;
            default:
                throw new ArgumentException($"Property '{name}' has unsupported type {value.GetType().Name}.");
        }
    }

    internal static string FormatDateTime(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static void WriteAnnotated(Utf8JsonWriter writer, string name, string type, string value)
    {
        writer.WriteString(name + TypeSuffix, type);
        writer.WriteString(name, value);
    }

    private static object? ReadValue(string name, JsonElement value, string? type)
    {
        switch (type)
        {
            case "Edm.Int64":
                return long.Parse(value.GetString()!, CultureInfo.InvariantCulture);
            case "Edm.DateTime":
                return DateTimeOffset.Parse(value.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
            case "Edm.Guid":
                return Guid.Parse(value.GetString()!);
            case "Edm.Binary":
                return Convert.FromBase64String(value.GetString()!);
            case "Edm.Double":
                return value.ValueKind == JsonValueKind.String
                    ? double.Parse(value.GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture)
                    : value.GetDouble();
            case "Edm.Int32":
                return value.GetInt32();
            case "Edm.Boolean":
                return value.GetBoolean();
            case "Edm.String":
                return value.GetString();
        }

        // Minimal metadata omits the annotation for the types JSON carries natively.
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number when value.TryGetInt32(out var i) => i,
            JsonValueKind.Number => value.GetDouble(),
            JsonValueKind.Null => null,
            _ => throw new InvalidOperationException($"Property '{name}' has an unexpected JSON {value.ValueKind}."),
        };
    }
}
