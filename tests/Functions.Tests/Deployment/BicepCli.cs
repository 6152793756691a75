using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Deployment;

/// <summary>
/// The real Bicep CLI (NuGet <c>Azure.Bicep.CommandLine.linux-x64</c>, restored by the test project's
/// <c>PackageDownload</c>; its path is stamped into this assembly at build time), run on <c>infra/bicep</c>.
/// </summary>
internal static class BicepCli
{
    /// <summary>Secrets the parameter files read from the environment: long enough for main.bicep's @minLength.</summary>
    public static readonly IReadOnlyDictionary<string, string> SecretEnvironment = new Dictionary<string, string>
    {
        ["THREEPL_ADMIN_KEY"] = "test-admin-key-" + new string('a', 24),
        ["THREEPL_SIGNING_KEY"] = "test-signing-key-" + new string('s', 32),
        ["THREEPL_SMTP_PASSWORD"] = "test-smtp-password",
    };

    /// <summary>Every variable the parameter files read; cleared before each run so the caller's shell cannot leak in.</summary>
    private static readonly string[] s_parameterFileVariables = [.. SecretEnvironment.Keys, "THREEPL_OPERATOR_GROUP_ID"];

    public static string Root { get; } = Repository.PathOf("infra", "bicep");

    public static string Executable { get; } = FindExecutable();

    /// <summary>Paths relative to <see cref="Root"/>, with forward slashes, in ordinal order.</summary>
    public static IReadOnlyList<string> Files(string pattern) =>
        [.. Directory.GetFiles(Root, pattern, SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Root, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)];

    public static async Task<BicepRun> RunAsync(IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(Executable)
        {
            WorkingDirectory = Root,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        foreach (var name in s_parameterFileVariables)
        {
            startInfo.Environment.Remove(name);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        using var process = Process.Start(startInfo)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', arguments)} did not finish within 2 minutes");
        }
        return new BicepRun("bicep " + string.Join(' ', arguments), process.ExitCode, await stdout, await stderr);
    }

    private static string FindExecutable()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.OSArchitecture != Architecture.X64)
        {
            throw new PlatformNotSupportedException("The test project restores the linux-x64 Bicep CLI; these tests run on linux-x64 only.");
        }
        var path = typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BicepCli").Value;
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            throw new InvalidOperationException(
                $"The Bicep CLI is not at '{path}': dotnet restore tests/Functions.Tests downloads it (PackageDownload Azure.Bicep.CommandLine.linux-x64).");
        }
        // NuGet extracts package files without the executable bit for everyone but the extracting user.
        var mode = File.GetUnixFileMode(path);
        const UnixFileMode execute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        if ((mode & execute) != execute)
        {
            File.SetUnixFileMode(path, mode | execute);
        }
        return path;
    }
}

/// <summary>One CLI run. The CLI writes diagnostics (errors, warnings, linter findings) to stderr.</summary>
internal sealed record BicepRun(string CommandLine, int ExitCode, string StandardOutput, string StandardError)
{
    public override string ToString() => $"{CommandLine} → exit {ExitCode}\n{StandardError}{StandardOutput}";
}

/// <summary>
/// <c>bicep build</c> of every template and <c>bicep build-params</c> of every parameter file, once for all tests
/// that read the compiled ARM JSON.
/// </summary>
public sealed class CompiledBicep : IAsyncLifetime
{
    private readonly string _output = Directory.CreateTempSubdirectory("threepl-bicep").FullName;

    internal BicepRun Build { get; private set; } = null!;

    internal BicepRun BuildParams { get; private set; } = null!;

    /// <summary>Compiled templates by source path relative to infra/bicep (e.g. <c>modules/storage.bicep</c>).</summary>
    public IReadOnlyDictionary<string, JsonObject> Templates { get; private set; } = null!;

    /// <summary>Built parameter files by source path (e.g. <c>main.dev.bicepparam</c>).</summary>
    public IReadOnlyDictionary<string, JsonObject> Parameters { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var templates = Path.Combine(_output, "templates");
        var parameters = Path.Combine(_output, "parameters");
        Build = await BicepCli.RunAsync(null, "build", "--pattern", "**/*.bicep", "--outdir", templates);
        BuildParams = await BicepCli.RunAsync(BicepCli.SecretEnvironment, "build-params", "--pattern", "*.bicepparam", "--outdir", parameters);
        Templates = Read(templates, BicepCli.Files("*.bicep"), ".bicep");
        Parameters = Read(parameters, BicepCli.Files("*.bicepparam"), ".bicepparam");
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_output, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>The compiled file for each source file, or nothing for a source the CLI did not compile.</summary>
    private static Dictionary<string, JsonObject> Read(string directory, IReadOnlyList<string> sources, string extension) =>
        sources.Select(source => (source, json: Path.Combine(directory, source[..^extension.Length] + ".json")))
            .Where(s => File.Exists(s.json))
            .ToDictionary(s => s.source, s => JsonNode.Parse(File.ReadAllText(s.json))!.AsObject(), StringComparer.Ordinal);
}

[CollectionDefinition("bicep")]
public sealed class BicepCollection : ICollectionFixture<CompiledBicep>;
