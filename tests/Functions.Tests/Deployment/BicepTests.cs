using System.Text.RegularExpressions;

namespace ThreePL.Functions.Tests.Deployment;

/// <summary>
/// Static checks of infra/bicep. No Bicep compiler can be installed on our build machines, so these read the
/// source text for the rules a reviewer would check by hand (STYLE.md point 14, the deployment issue): every
/// parameter described, secrets never defaulted or output, role assignments named with guid() and using the
/// built-in role ids below, resource API versions from the list checked against the Azure template reference,
/// module parameters and the parameter files consistent with what they feed, and the app settings our code reads.
/// </summary>
public sealed partial class BicepTests
{
    /// <summary>Built-in role ids, each checked against the Azure built-in roles reference.</summary>
    private static readonly Dictionary<string, string> s_builtInRoles = new(StringComparer.OrdinalIgnoreCase)
    {
        ["0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"] = "Storage Table Data Contributor",
        ["974c5e8b-45b9-4653-ba55-5f855dd0fb88"] = "Storage Queue Data Contributor",
        ["b7e6dc6d-f1e8-4753-8033-0f276bb0955b"] = "Storage Blob Data Owner",
        ["4633458b-17de-408a-b874-0445c86b69e6"] = "Key Vault Secrets User",
        ["b86a8fe4-44ce-4948-aee5-eccb2c155cd7"] = "Key Vault Secrets Officer",
        ["3913510d-42f4-4e42-8a64-420c390055eb"] = "Monitoring Metrics Publisher",
    };

    /// <summary>Resource types and the API versions used, each found in the Azure template reference.</summary>
    private static readonly HashSet<string> s_apiVersions = new(StringComparer.Ordinal)
    {
        "Microsoft.OperationalInsights/workspaces@2023-09-01",
        "Microsoft.Insights/components@2020-02-02",
        "Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31",
        "Microsoft.Storage/storageAccounts@2023-05-01",
        "Microsoft.KeyVault/vaults@2023-07-01",
        "Microsoft.Authorization/roleAssignments@2022-04-01",
        "Microsoft.Web/serverfarms@2024-04-01",
        "Microsoft.Web/sites@2024-04-01",
        "Microsoft.Web/sites/config@2024-04-01",
    };

    private static readonly string s_root = FindBicepRoot();

    public static TheoryData<string> BicepFiles() => new(Directory.GetFiles(s_root, "*.bicep", SearchOption.AllDirectories)
        .Select(f => Path.GetRelativePath(s_root, f)).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(BicepFiles))]
    public void Every_parameter_has_a_description_and_no_secure_parameter_has_a_default(string file)
    {
        var lines = File.ReadAllLines(Path.Combine(s_root, file));
        foreach (var (line, index) in lines.Select((l, i) => (l, i)))
        {
            var param = ParamLine().Match(line);
            if (!param.Success)
            {
                continue;
            }
            var decorators = lines.Take(index).Reverse().TakeWhile(l => l.StartsWith('@') || l.StartsWith("  ", StringComparison.Ordinal) || l.StartsWith(']')).ToList();
            Assert.True(decorators.Any(d => d.StartsWith("@description(", StringComparison.Ordinal)), $"{file}: param {param.Groups["name"].Value} has no @description");
            if (decorators.Any(d => d.StartsWith("@secure()", StringComparison.Ordinal)))
            {
                Assert.False(line.Contains('=', StringComparison.Ordinal) && !line.TrimEnd().EndsWith("= ''", StringComparison.Ordinal),
                    $"{file}: secure param {param.Groups["name"].Value} has a default");
            }
        }
    }

    [Theory]
    [MemberData(nameof(BicepFiles))]
    public void Outputs_never_touch_a_secure_parameter(string file)
    {
        var text = File.ReadAllText(Path.Combine(s_root, file));
        var secure = SecureParam().Matches(text).Select(m => m.Groups["name"].Value).ToList();
        foreach (Match output in OutputLine().Matches(text))
        {
            foreach (var name in secure)
            {
                Assert.False(Regex.IsMatch(output.Value, $@"\b{name}\b"), $"{file}: output refers to secure param {name}: {output.Value}");
            }
            Assert.DoesNotContain("listKeys", output.Value, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(BicepFiles))]
    public void Resource_api_versions_and_role_ids_are_the_verified_ones(string file)
    {
        var text = File.ReadAllText(Path.Combine(s_root, file));
        foreach (Match resource in ResourceType().Matches(text))
        {
            Assert.Contains(resource.Groups["type"].Value, s_apiVersions);
        }
        foreach (Match guid in Guid().Matches(text))
        {
            Assert.True(s_builtInRoles.ContainsKey(guid.Value), $"{file}: {guid.Value} is not one of the checked built-in roles");
        }
        foreach (Match assignment in RoleAssignment().Matches(text))
        {
            Assert.Matches(@"^\s*name: guid\(", text[(assignment.Index + assignment.Length)..].Split('\n').Skip(1).First());
        }
        // No storage key anywhere, and no setting Flex Consumption refuses (comments may name them).
        var code = string.Join('\n', text.Split('\n').Where(l => !l.TrimStart().StartsWith("//", StringComparison.Ordinal)));
        Assert.DoesNotContain("AccountKey", code, StringComparison.Ordinal);
        Assert.DoesNotContain("listKeys", code, StringComparison.Ordinal);
        Assert.DoesNotContain("FUNCTIONS_WORKER_RUNTIME", code, StringComparison.Ordinal);
        Assert.DoesNotContain("FUNCTIONS_EXTENSION_VERSION", code, StringComparison.Ordinal);
        Assert.DoesNotContain("WEBSITE_RUN_FROM_PACKAGE", code, StringComparison.Ordinal);
    }

    [Fact]
    public void Main_passes_every_module_parameter_and_no_unknown_one()
    {
        var main = File.ReadAllText(Path.Combine(s_root, "main.bicep"));
        var modules = ModuleBlock().Matches(main);
        Assert.Equal(Directory.GetFiles(Path.Combine(s_root, "modules"), "*.bicep").Length, modules.Count);
        foreach (Match module in modules)
        {
            var path = Path.Combine(s_root, module.Groups["path"].Value);
            Assert.True(File.Exists(path), $"module {path} is missing");
            var declared = Params(File.ReadAllText(path));
            var passed = ParamsBlockKeys(module.Groups["body"].Value);
            Assert.Empty(passed.Except(declared.Keys));
            Assert.Empty(declared.Where(p => !p.Value).Select(p => p.Key).Except(passed));
        }
    }

    [Theory]
    [InlineData("main.dev.bicepparam")]
    [InlineData("main.prod.bicepparam")]
    public void Parameter_files_set_every_required_parameter_and_only_known_ones(string file)
    {
        var declared = Params(File.ReadAllText(Path.Combine(s_root, "main.bicep")));
        var text = File.ReadAllText(Path.Combine(s_root, file));
        Assert.Contains("using './main.bicep'", text, StringComparison.Ordinal);
        var set = BicepParamAssignment().Matches(text).Select(m => m.Groups["name"].Value).ToList();
        Assert.Empty(set.Except(declared.Keys));
        Assert.Empty(declared.Where(p => !p.Value).Select(p => p.Key).Except(set));
        // Secrets only from the deploying shell's environment.
        foreach (var secret in new[] { "adminKey", "signingKey", "smtpPassword" })
        {
            Assert.Matches($@"param {secret} = readEnvironmentVariable\(", text);
        }
    }

    [Fact]
    public void The_app_settings_are_the_ones_the_app_and_the_host_read()
    {
        var app = File.ReadAllText(Path.Combine(s_root, "modules", "functionApp.bicep"));
        foreach (var setting in new[]
        {
            "AzureWebJobsStorage__accountName", "AzureWebJobsStorage__credential: 'managedidentity'", "AzureWebJobsStorage__clientId",
            "AzureWebJobsStorage__tableServiceUri", "AzureWebJobsStorage__queueServiceUri", "AzureWebJobsStorage__blobServiceUri",
            "ThreePL__PublicBaseUrl", "ThreePL__AdminKey: '@Microsoft.KeyVault(", "ThreePL__SigningKey: '@Microsoft.KeyVault(",
            "ThreePL__Email__Smtp__Password: '@Microsoft.KeyVault(", "APPLICATIONINSIGHTS_AUTHENTICATION_STRING", "keyVaultReferenceIdentity: identityId",
            "name: 'custom'",
        })
        {
            Assert.Contains(setting, app, StringComparison.Ordinal);
        }
        var storage = File.ReadAllText(Path.Combine(s_root, "modules", "storage.bicep"));
        Assert.Contains("allowSharedKeyAccess: false", storage, StringComparison.Ordinal);
        Assert.Contains("minimumTlsVersion: 'TLS1_2'", storage, StringComparison.Ordinal);
        Assert.Contains("allowBlobPublicAccess: false", storage, StringComparison.Ordinal);
        Assert.Contains("enableRbacAuthorization: true", File.ReadAllText(Path.Combine(s_root, "modules", "keyVault.bicep")), StringComparison.Ordinal);
    }

    /// <summary>Parameter name → whether it has a default.</summary>
    private static Dictionary<string, bool> Params(string text) =>
        text.Split('\n').Select(l => ParamLine().Match(l)).Where(m => m.Success)
            .ToDictionary(m => m.Groups["name"].Value, m => m.Value.Contains('=', StringComparison.Ordinal));

    private static List<string> ParamsBlockKeys(string moduleBody)
    {
        var start = moduleBody.IndexOf("params: {", StringComparison.Ordinal);
        Assert.True(start >= 0, "module without params");
        return moduleBody[start..].Split('\n').Skip(1).TakeWhile(l => !l.StartsWith("  }", StringComparison.Ordinal))
            .Select(l => ModuleParamKey().Match(l)).Where(m => m.Success).Select(m => m.Groups["name"].Value).ToList();
    }

    private static string FindBicepRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var bicep = Path.Combine(directory.FullName, "infra", "bicep");
            if (File.Exists(Path.Combine(bicep, "main.bicep")))
            {
                return bicep;
            }
        }
        throw new InvalidOperationException("infra/bicep/main.bicep not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^param (?<name>\w+) [\w\[\]]+.*$")]
    private static partial Regex ParamLine();

    [GeneratedRegex(@"@secure\(\)\s*\n(?:@[^\n]*\n)*param (?<name>\w+)")]
    private static partial Regex SecureParam();

    [GeneratedRegex(@"^output [^\n]*$", RegexOptions.Multiline)]
    private static partial Regex OutputLine();

    [GeneratedRegex(@"'(?<type>Microsoft\.[\w./]+@[\w-]+)'")]
    private static partial Regex ResourceType();

    [GeneratedRegex(@"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", RegexOptions.IgnoreCase)]
    private static partial Regex Guid();

    [GeneratedRegex(@"^resource \w+ 'Microsoft\.Authorization/roleAssignments@[^']+' = [^\n]*\{", RegexOptions.Multiline)]
    private static partial Regex RoleAssignment();

    [GeneratedRegex(@"^module \w+ '(?<path>[^']+)' = \{\n(?<body>(?:.*\n)*?)\}", RegexOptions.Multiline)]
    private static partial Regex ModuleBlock();

    [GeneratedRegex(@"^    (?<name>\w+):")]
    private static partial Regex ModuleParamKey();

    [GeneratedRegex(@"^param (?<name>\w+) =", RegexOptions.Multiline)]
    private static partial Regex BicepParamAssignment();
}
