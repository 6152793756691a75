namespace ThreePL.Domain.Common;

/// <summary>
/// Collects validation errors keyed by the JSON path of the offending field (<c>lines[3].quantity</c>), so the
/// HTTP layer can return them as the <c>errors</c> member of an RFC 9457 problem without translating names.
/// </summary>
public sealed class FieldErrors
{
    /// <summary>The machine code of every validation failure.</summary>
    public const string Code = "validation_failed";

    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    /// <summary>True when no error was added.</summary>
    public bool IsEmpty => _errors.Count == 0;

    /// <summary>Adds <paramref name="message"/> for the field at <paramref name="path"/>.</summary>
    public void Add(string path, string message)
    {
        if (!_errors.TryGetValue(path, out var messages))
        {
            messages = [];
            _errors[path] = messages;
        }
        messages.Add(message);
    }

    /// <summary>A read-only copy: field path to its messages.</summary>
    public IReadOnlyDictionary<string, string[]> ToDictionary() =>
        _errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);

    /// <summary>One line naming every field and message, for logs and <see cref="DomainError.Message"/>.</summary>
    public override string ToString() =>
        string.Join("; ", _errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"));
}

/// <summary>Small text checks shared by the validators.</summary>
internal static class Text
{
    /// <summary>True when <paramref name="value"/> contains a control character other than the ones allowed.</summary>
    public static bool HasControlChars(string value, bool allowLineBreaks = false)
    {
        foreach (var c in value)
        {
            if (char.IsControl(c) && !(allowLineBreaks && c is '\r' or '\n' or '\t'))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Checks a required single-line string of 1..<paramref name="max"/> characters.</summary>
    public static void Required(FieldErrors errors, string path, string? value, int max)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add(path, "Is required.");
            return;
        }
        Optional(errors, path, value, max);
    }

    /// <summary>Checks an optional single-line string of at most <paramref name="max"/> characters.</summary>
    public static void Optional(FieldErrors errors, string path, string? value, int max, bool allowLineBreaks = false)
    {
        if (value is null)
        {
            return;
        }
        if (value.Length > max)
        {
            errors.Add(path, $"Must be at most {max} characters.");
        }
        if (HasControlChars(value, allowLineBreaks))
        {
            errors.Add(path, "Must not contain control characters.");
        }
    }
}
