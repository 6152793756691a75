using System.Text.RegularExpressions;

namespace ThreePL.Functions.Infrastructure;

/// <summary>
/// Table and queue names, with an optional prefix (<c>ThreePL:Storage:Prefix</c>) so several deployments or
/// test runs can share one storage account without seeing each other's data. The queue triggers resolve the same
/// setting (<c>%ThreePL:Storage:Prefix%</c>), so they listen where the app sends; the Bicep deployment sets it.
/// </summary>
public sealed partial class StorageNames
{
    public StorageNames(string? prefix)
    {
        Prefix = prefix ?? "";
        if (Prefix.Length > 20 || (Prefix.Length > 0 && !PrefixPattern().IsMatch(Prefix)))
        {
            throw new InvalidOperationException(
                "ThreePL:Storage:Prefix must be up to 20 lower-case letters and digits, starting with a letter.");
        }
    }

    public string Prefix { get; }

    public string Table(string name) => Prefix + name;

    public string Queue(string name) => Prefix + name;

    public static string Poison(string queueName) => queueName + "-poison";

    [GeneratedRegex("^[a-z][a-z0-9]*$")]
    private static partial Regex PrefixPattern();
}
