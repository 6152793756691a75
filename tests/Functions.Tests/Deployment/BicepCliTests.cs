namespace ThreePL.Functions.Tests.Deployment;

/// <summary>
/// infra/bicep through the real Bicep CLI: every template compiles and every parameter file builds against
/// main.bicep (types, required and unknown parameters and properties, resource types and API versions, module
/// parameters, @minLength on secrets), and the default linter has nothing to say — not one warning.
/// </summary>
[Collection("bicep")]
public sealed class BicepCliTests(CompiledBicep compiled)
{
    public static TheoryData<string> TemplatesAndParameterFiles() =>
        new([.. BicepCli.Files("*.bicep"), .. BicepCli.Files("*.bicepparam")]);

    [Fact]
    public void Every_template_builds_without_a_diagnostic()
    {
        AssertClean(compiled.Build);
        Assert.Equal(BicepCli.Files("*.bicep"), compiled.Templates.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_parameter_file_builds_without_a_diagnostic_with_the_secrets_from_the_environment()
    {
        AssertClean(compiled.BuildParams);
        Assert.Equal(BicepCli.Files("*.bicepparam"), compiled.Parameters.Keys.Order(StringComparer.Ordinal));
        foreach (var (file, parameters) in compiled.Parameters)
        {
            Assert.Equal(BicepCli.SecretEnvironment["THREEPL_ADMIN_KEY"], (string?)parameters["parameters"]!["adminKey"]!["value"]);
            Assert.Equal(BicepCli.SecretEnvironment["THREEPL_SIGNING_KEY"], (string?)parameters["parameters"]!["signingKey"]!["value"]);
            Assert.True(parameters["parameters"]!["smtpPassword"]?["value"] is not null, $"{file} does not set smtpPassword");
        }
    }

    [Theory]
    [InlineData("main.dev.bicepparam")]
    [InlineData("main.prod.bicepparam")]
    public async Task A_parameter_file_does_not_build_without_the_secrets_in_the_environment(string file)
    {
        var run = await BicepCli.RunAsync(null, "build-params", file, "--stdout");

        Assert.NotEqual(0, run.ExitCode);
        // BCP427: a variable read with readEnvironmentVariable and no default is missing.
        Assert.Contains("""BCP427: Environment variable "THREEPL_ADMIN_KEY" does not exist""", run.StandardError, StringComparison.Ordinal);
        Assert.Contains("""BCP427: Environment variable "THREEPL_SIGNING_KEY" does not exist""", run.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(TemplatesAndParameterFiles))]
    public async Task Lints_clean(string file) =>
        AssertClean(await BicepCli.RunAsync(BicepCli.SecretEnvironment, "lint", file));

    private static void AssertClean(BicepRun run)
    {
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(run.StandardError.Length == 0, run.ToString());
        Assert.True(run.StandardOutput.Length == 0, run.ToString());
    }
}
