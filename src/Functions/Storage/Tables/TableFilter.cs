using System.Globalization;

namespace ThreePL.Functions.Storage.Tables;

/// <summary>
/// The one sanctioned way to put values into an OData <c>$filter</c>: every interpolated argument becomes a
/// typed literal, so input such as <c>' or PartitionKey ne '</c> stays inside its string.
/// </summary>
/// <example><c>TableFilter.Create($"PartitionKey eq {accountId} and Amount gt {100L}")</c></example>
public static class TableFilter
{
    public static string Create(FormattableString filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var arguments = filter.GetArguments().Select(ToLiteral).ToArray<object?>();
        return string.Format(CultureInfo.InvariantCulture, filter.Format, arguments);
    }

    internal static string ToLiteral(object? value) => value switch
    {
        null => "null",
        string s => Quote(s),
        char c => Quote(c.ToString()),
        bool b => b ? "true" : "false",
        int i => i.ToString(CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture) + "L",
        double d => FormatDouble(d),
        DateTimeOffset dto => $"datetime'{TableEntitySerializer.FormatDateTime(dto)}'",
        DateTime dt => $"datetime'{TableEntitySerializer.FormatDateTime(TableEntity.ToDateTimeOffset(dt))}'",
        Guid g => $"guid'{g:D}'",
        byte[] bytes => $"X'{Convert.ToHexStringLower(bytes)}'",
        _ => throw new ArgumentException($"A {value.GetType().Name} cannot appear in a table filter."),
    };

    private static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string FormatDouble(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentException("NaN and infinities cannot appear in a table filter.");
        }

        var text = value.ToString("R", CultureInfo.InvariantCulture);

        // Without a decimal point the service would read the literal as an Int32.
        return text.Contains('.') || text.Contains('E') ? text : text + ".0";
    }
}
