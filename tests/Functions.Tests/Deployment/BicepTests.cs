using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace ThreePL.Functions.Tests.Deployment;

/// <summary>
/// Our own rules for infra/bicep, which the compiler and its linter do not check (BicepCliTests covers those): every
/// parameter described, one module per file and all of them deployed, role assignments named with guid() and using
/// only the built-in roles checked below, no storage key or setting Flex Consumption refuses, the isolated-worker
/// stack in step with the build, and the app settings the host and our code read. Read from the compiled ARM JSON
/// where it has the structure, from the source where the compiler folds it into expressions.
/// </summary>
[Collection("bicep")]
public sealed partial class BicepTests(CompiledBicep compiled)
{
    /// <summary>Built-in role ids, each checked against the Azure built-in roles reference (storage, security, monitor).</summary>
    private static readonly Dictionary<string, string> s_builtInRoles = new(StringComparer.Ordinal)
    {
        ["storageTableDataContributor"] = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
        ["storageQueueDataContributor"] = "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
        ["storageBlobDataOwner"] = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
        ["keyVaultSecretsUser"] = "4633458b-17de-408a-b874-0445c86b69e6",
        ["keyVaultSecretsOfficer"] = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
        ["monitoringMetricsPublisher"] = "3913510d-42f4-4e42-8a64-420c390055eb",
    };

    [Fact]
    public void Every_parameter_has_a_description()
    {
        Assert.NotEmpty(compiled.Templates);
        foreach (var (file, template) in compiled.Templates)
        {
            foreach (var (name, parameter) in template["parameters"]?.AsObject() ?? [])
            {
                Assert.False(string.IsNullOrWhiteSpace((string?)parameter?["metadata"]?["description"]), $"{file}: param {name} has no @description");
            }
        }
    }

    [Fact]
    public void Every_module_is_its_own_file_and_main_deploys_each_once()
    {
        var main = File.ReadAllText(Path.Combine(BicepCli.Root, "main.bicep"));
        var deployed = ModuleReference().Matches(main).Select(m => m.Groups["path"].Value).Order(StringComparer.Ordinal);
        Assert.Equal(BicepCli.Files("*.bicep").Where(f => f.StartsWith("modules/", StringComparison.Ordinal)), deployed);
    }

    [Fact]
    public void The_identity_gets_the_storage_roles_durable_functions_and_the_host_need_with_guid_names()
    {
        var roleAssignments = Template("modules/roleAssignments.bicep");
        Assert.Equal(s_builtInRoles, roleAssignments["variables"]!["roles"]!.AsObject().ToDictionary(r => r.Key, r => (string)r.Value!));
        Assert.Equal(
            ["[variables('roles').storageTableDataContributor]", "[variables('roles').storageQueueDataContributor]", "[variables('roles').storageBlobDataOwner]"],
            roleAssignments["variables"]!["storageRoles"]!.AsArray().Select(r => (string?)r));

        foreach (var (file, template) in compiled.Templates)
        {
            // guid() over scope, principal and role: a redeployment finds the same assignment instead of a conflict.
            foreach (var assignment in Resources(template).Where(r => (string?)r["type"] == "Microsoft.Authorization/roleAssignments"))
            {
                Assert.StartsWith("[guid(", (string?)assignment["name"], StringComparison.Ordinal);
            }
            foreach (Match guid in Guid().Matches(template.ToJsonString()))
            {
                Assert.True(s_builtInRoles.ContainsValue(guid.Value), $"{file}: {guid.Value} is not one of the checked built-in roles");
            }
        }
    }

    [Fact]
    public void No_storage_key_anywhere_and_no_setting_flex_consumption_refuses()
    {
        foreach (var (file, template) in compiled.Templates)
        {
            var json = template.ToJsonString();
            foreach (var forbidden in new[] { "listKeys", "AccountKey", "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE" })
            {
                Assert.False(json.Contains(forbidden, StringComparison.OrdinalIgnoreCase), $"{file} contains {forbidden}");
            }
        }
        var storage = Resource("modules/storage.bicep", "Microsoft.Storage/storageAccounts")["properties"]!;
        Assert.False((bool)storage["allowSharedKeyAccess"]!);
        Assert.False((bool)storage["allowBlobPublicAccess"]!);
        Assert.Equal("TLS1_2", (string?)storage["minimumTlsVersion"]);
        Assert.True((bool)Resource("modules/keyVault.bicep", "Microsoft.KeyVault/vaults")["properties"]!["enableRbacAuthorization"]!);
    }

    [Fact]
    public void The_function_app_runs_the_isolated_worker_of_our_target_framework_as_the_user_assigned_identity()
    {
        var site = Resource("modules/functionApp.bicep", "Microsoft.Web/sites");
        var config = site["properties"]!["functionAppConfig"]!;
        Assert.Equal("dotnet-isolated", (string?)config["runtime"]!["name"]);
        var targetFramework = XDocument.Load(Path.Combine(BicepCli.Root, "..", "..", "Directory.Build.props")).Descendants("TargetFramework").Single().Value;
        Assert.Equal(targetFramework, "net" + (string?)config["runtime"]!["version"]);

        Assert.Equal("UserAssigned", (string?)site["identity"]!["type"]);
        Assert.Equal("blobContainer", (string?)config["deployment"]!["storage"]!["type"]);
        Assert.Equal("UserAssignedIdentity", (string?)config["deployment"]!["storage"]!["authentication"]!["type"]);
        Assert.Equal("[parameters('identityId')]", (string?)config["deployment"]!["storage"]!["authentication"]!["userAssignedIdentityResourceId"]);
        Assert.Equal("[parameters('identityId')]", (string?)site["properties"]!["keyVaultReferenceIdentity"]);
    }

    [Fact]
    public void The_app_settings_are_the_ones_the_host_durable_functions_and_the_app_read()
    {
        var app = File.ReadAllText(Path.Combine(BicepCli.Root, "modules", "functionApp.bicep"));
        foreach (var setting in new[]
        {
            "AzureWebJobsStorage__credential: 'managedidentity'", "AzureWebJobsStorage__clientId: identityClientId",
            "AzureWebJobsStorage__blobServiceUri: blobEndpoint", "AzureWebJobsStorage__queueServiceUri: queueEndpoint",
            "AzureWebJobsStorage__tableServiceUri: tableEndpoint",
            "ThreePL__Storage__Prefix: storagePrefix", "ThreePL__PublicBaseUrl", "ThreePL__AdminKey: '@Microsoft.KeyVault(", "ThreePL__SigningKey: '@Microsoft.KeyVault(",
            "ThreePL__Email__Smtp__Password: '@Microsoft.KeyVault(", "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
        })
        {
            Assert.Contains(setting, app, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_storage_prefix_the_queue_triggers_resolve_is_always_set_to_a_name_the_app_accepts()
    {
        // Every [QueueTrigger] names %ThreePL:Storage:Prefix%<queue>: without the setting the host indexes no queue
        // trigger, and an empty one may not reach the host, so main requires a value and passes it to the app.
        var parameter = Template("main.bicep")["parameters"]!["storagePrefix"]!;
        Assert.Equal(1, (int?)parameter["minLength"]);
        Assert.Equal(20, (int?)parameter["maxLength"]);
        var prefix = (string?)parameter["defaultValue"];
        Assert.False(string.IsNullOrEmpty(prefix));
        Assert.Equal(prefix, new ThreePL.Functions.Infrastructure.StorageNames(prefix).Prefix);
        Assert.Contains("storagePrefix: storagePrefix", File.ReadAllText(Path.Combine(BicepCli.Root, "main.bicep")), StringComparison.Ordinal);
        Assert.Equal("%ThreePL:Storage:Prefix%", ThreePL.Functions.Messaging.QueueBinding.Prefix);
    }

    private JsonObject Template(string file) =>
        compiled.Templates.TryGetValue(file, out var template) ? template : throw new InvalidOperationException($"{file} was not compiled:\n{compiled.Build}");

    /// <summary>The one resource of a type that the template deploys (not an <c>existing</c> reference).</summary>
    private JsonObject Resource(string file, string type) =>
        Resources(Template(file)).Single(r => (string?)r["type"] == type && r["existing"] is null);

    /// <summary>
    /// A template's own resources: an array, or an object by symbolic name when it uses user-defined types
    /// (languageVersion 2.0, which also lists <c>existing</c> references).
    /// </summary>
    private static IEnumerable<JsonObject> Resources(JsonObject template) => template["resources"] switch
    {
        JsonObject bySymbolicName => bySymbolicName.Select(r => r.Value!.AsObject()),
        JsonArray list => list.Select(r => r!.AsObject()),
        _ => throw new InvalidOperationException("a template without resources"),
    };

    [GeneratedRegex(@"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", RegexOptions.IgnoreCase)]
    private static partial Regex Guid();

    [GeneratedRegex(@"^module \w+ '(?<path>[^']+)' = ", RegexOptions.Multiline)]
    private static partial Regex ModuleReference();
}
