using System.Text.RegularExpressions;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Hosting;

/// <summary>
/// Folders of the Functions app show its architecture: a feature depends on the core (Infrastructure, Messaging, Http)
/// and on contracts, never on another feature's internals that depend back on it. This reads the sources and fails on
/// the dependencies that were cycles once, so none comes back unnoticed.
/// </summary>
public sealed class ArchitectureTests
{
    private static readonly string[] Features =
    [
        "Accounts", "ApiKeys", "Audit", "Billing", "ConnectPages", "Connections", "Email", "Events", "Health", "Impersonation", "Inventory",
        "Orders", "SupportTickets", "Webhooks",
    ];

    public static TheoryData<string, string> Forbidden()
    {
        var data = new TheoryData<string, string>();
        foreach (var feature in Features)
        {
            data.Add("Messaging", feature);
            data.Add("Infrastructure", feature);
        }
        data.Add("Connections", "Orders");
        data.Add("Connections", "Webhooks");
        data.Add("Orders", "Inventory");
        data.Add("Orders", "Billing");
        return data;
    }

    [Theory]
    [MemberData(nameof(Forbidden))]
    public void A_folder_does_not_reach_into_a_feature_that_depends_on_it(string from, string to)
    {
        var offenders = References(from, to);
        Assert.True(offenders.Count == 0, $"{from} refers to {to} in: {string.Join(", ", offenders)}");
    }

    [Fact]
    public void The_scan_sees_a_dependency_that_exists()
    {
        Assert.NotEmpty(References("Orders", "Connections"));
        Assert.NotEmpty(References("Webhooks", "Messaging"));
    }

    /// <summary>
    /// Files under <c>src/Functions/{from}</c> that name namespace <c>ThreePL.Functions.{to}</c>, fully (a using, a
    /// qualified name) or relative to the root namespace (<c>{to}.Type</c>). Comments count too: a cref is a
    /// dependency of the reader.
    /// </summary>
    private static List<string> References(string from, string to)
    {
        var pattern = new Regex($@"(ThreePL\.Functions\.{to}\b|[^A-Za-z.]{to}\.[A-Z])");
        return Directory.EnumerateFiles(Path.Combine(Repository.PathOf("src", "Functions"), from), "*.cs", SearchOption.AllDirectories)
            .Where(file => pattern.IsMatch(File.ReadAllText(file)))
            .Select(Path.GetFileName)
            .ToList()!;
    }
}
