using System.Collections;
using System.Diagnostics.CodeAnalysis;
using Azure;

namespace ThreePL.Functions.Storage.Tables;

/// <summary>
/// A table row as a property bag. <c>PartitionKey</c> and <c>RowKey</c> live in the bag (as in Azure.Data.Tables);
/// <see cref="ETag"/> and <see cref="Timestamp"/> are service-owned and never sent as properties.
/// Values are limited to the types the table service stores: string, int, long, bool, double,
/// DateTimeOffset, DateTime, Guid and byte[].
/// </summary>
public sealed class TableEntity : IDictionary<string, object?>
{
    internal const string PartitionKeyName = "PartitionKey";
    internal const string RowKeyName = "RowKey";
    internal const string TimestampName = "Timestamp";

    private readonly Dictionary<string, object?> _properties = new(StringComparer.Ordinal);

    public TableEntity()
    {
    }

    public TableEntity(string partitionKey, string rowKey)
    {
        PartitionKey = partitionKey;
        RowKey = rowKey;
    }

    public string PartitionKey
    {
        get => GetString(PartitionKeyName) ?? string.Empty;
        set => this[PartitionKeyName] = value;
    }

    public string RowKey
    {
        get => GetString(RowKeyName) ?? string.Empty;
        set => this[RowKeyName] = value;
    }

    /// <summary>The version read from or last written to the service; echo it in <c>If-Match</c>.</summary>
    public ETag ETag { get; set; }

    public DateTimeOffset? Timestamp { get; set; }

    public int Count => _properties.Count;

    public bool IsReadOnly => false;

    public ICollection<string> Keys => _properties.Keys;

    public ICollection<object?> Values => _properties.Values;

    public object? this[string key]
    {
        get => _properties[key];
        set => _properties[key] = CheckValue(key, value);
    }

    public string? GetString(string key) => Get<string>(key);

    public int? GetInt32(string key) => GetValue<int>(key);

    /// <summary>Also accepts a stored Int32, since small numbers written by other tools may come back untyped.</summary>
    public long? GetInt64(string key) => TryGetValue(key, out var value) && value is int i ? i : GetValue<long>(key);

    public bool? GetBoolean(string key) => GetValue<bool>(key);

    public DateTimeOffset? GetDateTimeOffset(string key) =>
        TryGetValue(key, out var value) && value is DateTime dt ? ToDateTimeOffset(dt) : GetValue<DateTimeOffset>(key);

    public Guid? GetGuid(string key) => GetValue<Guid>(key);

    /// <summary>Also accepts a stored Int32: a whole double written without a type annotation reads back as one.</summary>
    public double? GetDouble(string key) => TryGetValue(key, out var value) && value is int i ? i : GetValue<double>(key);

    public byte[]? GetBinary(string key) => Get<byte[]>(key);

    public void Add(string key, object? value) => _properties.Add(key, CheckValue(key, value));

    public bool ContainsKey(string key) => _properties.ContainsKey(key);

    public bool Remove(string key) => _properties.Remove(key);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object? value) => _properties.TryGetValue(key, out value);

    public void Add(KeyValuePair<string, object?> item) => Add(item.Key, item.Value);

    public void Clear() => _properties.Clear();

    public bool Contains(KeyValuePair<string, object?> item) => ((ICollection<KeyValuePair<string, object?>>)_properties).Contains(item);

    public void CopyTo(KeyValuePair<string, object?>[] array, int arrayIndex) =>
        ((ICollection<KeyValuePair<string, object?>>)_properties).CopyTo(array, arrayIndex);

    public bool Remove(KeyValuePair<string, object?> item) => ((ICollection<KeyValuePair<string, object?>>)_properties).Remove(item);

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _properties.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private T? Get<T>(string key)
        where T : class
    {
        if (!_properties.TryGetValue(key, out var value) || value is null)
        {
            return null;
        }

        return value as T ?? throw WrongType<T>(key, value);
    }

    private T? GetValue<T>(string key)
        where T : struct
    {
        if (!_properties.TryGetValue(key, out var value) || value is null)
        {
            return null;
        }

        return value is T typed ? typed : throw WrongType<T>(key, value);
    }

    // The service stores UTC only; an unspecified kind is taken to be UTC already rather than shifted by the local zone.
    internal static DateTimeOffset ToDateTimeOffset(DateTime value) =>
        value.Kind == DateTimeKind.Unspecified
            ? new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc))
            : new DateTimeOffset(value.ToUniversalTime());

    private static InvalidOperationException WrongType<T>(string key, object value) =>
        new($"Property '{key}' holds a {value.GetType().Name}, not a {typeof(T).Name}.");

    private static object? CheckValue(string key, object? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (key is PartitionKeyName or RowKeyName && value is not string)
        {
            throw new ArgumentException($"{key} must be a string.", nameof(value));
        }

        return value is null or string or int or long or bool or double or DateTimeOffset or DateTime or Guid or byte[]
            ? value
            : throw new ArgumentException(
                $"Property '{key}' has type {value.GetType().Name}; tables store only string, int, long, bool, double, DateTimeOffset, DateTime, Guid and byte[].",
                nameof(value));
    }
}
