using System.Diagnostics;
using System.Text.Json;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Deployment;

/// <summary>
/// The OpenAPI document passes a real linter: <c>redocly lint</c> (npm <c>@redocly/cli</c>, pinned in package.json and
/// installed by test.sh) with the committed <c>redocly.yaml</c>, which names the rules we waive and why. Any error or
/// warning fails the suite.
/// </summary>
public sealed class OpenApiLintTests
{
    private const string Document = "src/Functions/Http/OpenApi/v1.json";

    [Fact]
    public async Task The_OpenAPI_document_lints_clean()
    {
        var root = Repository.Root;
        var redocly = Path.Combine(root, "node_modules", ".bin", "redocly");
        Assert.True(File.Exists(redocly), $"{redocly} is missing: run ./test.sh (npm ci installs the pinned @redocly/cli).");
        var startInfo = new ProcessStartInfo(redocly, ["lint", Document, "--format=json", "--max-problems=1000"])
        {
            WorkingDirectory = root,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // No telemetry or update checks from a test run; the network is the package registries only.
        startInfo.Environment["REDOCLY_TELEMETRY"] = "off";
        startInfo.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
        using var process = Process.Start(startInfo)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);

        var output = await stdout;
        var json = output.IndexOf('{', StringComparison.Ordinal) is var start and >= 0 ? output[start..] : "";
        Assert.True(json.Length > 0, $"redocly lint printed no report (exit {process.ExitCode}):\n{output}\n{await stderr}");
        using var report = JsonDocument.Parse(json);
        var totals = report.RootElement.GetProperty("totals");
        var problems = report.RootElement.GetProperty("problems").EnumerateArray()
            .Select(p => $"{p.GetProperty("severity").GetString()} {p.GetProperty("ruleId").GetString()}: {p.GetProperty("message").GetString()} at {string.Join(", ", p.GetProperty("location").EnumerateArray().Select(l => l.GetProperty("pointer").GetString()))}")
            .ToList();
        Assert.True(totals.GetProperty("errors").GetInt32() == 0 && totals.GetProperty("warnings").GetInt32() == 0 && process.ExitCode == 0,
            $"redocly lint {Document} (exit {process.ExitCode}):\n" + string.Join("\n", problems));
    }
}
