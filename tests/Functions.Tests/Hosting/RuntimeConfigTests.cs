using System.Text.Json;

namespace ThreePL.Functions.Tests.Hosting;

/// <summary>
/// Both app builds carry the GC's gen0 budget cap in their runtimeconfig (docs/performance.md, "Peak RSS"): it is what
/// keeps the app's peak memory under issue 14's 200 MB, and a project edit that dropped it would go unnoticed otherwise.
/// </summary>
public sealed class RuntimeConfigTests
{
    [Theory]
    [InlineData("ThreePL.Functions.runtimeconfig.json")]
    [InlineData("ThreePL.LocalHost.runtimeconfig.json")]
    public void The_app_caps_the_gen0_budget_at_16_MB(string file)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, file)));
        var properties = document.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.Equal(16 * 1024 * 1024, properties.GetProperty("System.GC.Gen0MaxBudget").GetInt64());
    }
}
