using System.Text;
using Azure.Data.Tables;

namespace ThreePL.Functions.Infrastructure;

/// <summary>
/// A string property holds at most 32 K UTF-16 characters (Azure refuses more; Azurite does not check), so a longer
/// text is stored as <c>{name}</c>, <c>{name}1</c>, <c>{name}2</c>… of at most <see cref="Chunk"/> characters each.
/// </summary>
public static class LongText
{
    public const int Chunk = 30_000;

    public static void Write(TableEntity row, string name, string text)
    {
        for (var i = 0; i * Chunk < text.Length || i == 0; i++)
        {
            row[i == 0 ? name : $"{name}{i}"] = text.Substring(i * Chunk, Math.Min(Chunk, text.Length - (i * Chunk)));
        }
    }

    /// <summary>The text <see cref="Write"/> stored, or null when the row has no <paramref name="name"/>.</summary>
    public static string? Read(TableEntity row, string name)
    {
        if (row.GetString(name) is not { } first)
        {
            return null;
        }
        var text = new StringBuilder(first);
        for (var i = 1; row.GetString($"{name}{i}") is { } chunk; i++)
        {
            text.Append(chunk);
        }
        return text.ToString();
    }
}
