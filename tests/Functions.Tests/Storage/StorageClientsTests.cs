using Azure.Identity;
using Microsoft.Extensions.Configuration;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Tests.Storage;

/// <summary>
/// The identity-based branch of <see cref="StorageClients"/>, as the Bicep deployment configures it (no connection
/// string; app settings <c>AzureWebJobsStorage__tableServiceUri</c> etc., which configuration reads with <c>:</c>).
/// Building a client sends nothing, so this runs without network or Azure.
/// </summary>
public sealed class StorageClientsTests
{
    private static IConfiguration Identity(string? clientId = "00000000-1111-2222-3333-444444444444") =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage:credential"] = "managedidentity",
            ["AzureWebJobsStorage:clientId"] = clientId,
            ["AzureWebJobsStorage:blobServiceUri"] = "https://stthreepl.blob.core.windows.net/",
            ["AzureWebJobsStorage:queueServiceUri"] = "https://stthreepl.queue.core.windows.net/",
            ["AzureWebJobsStorage:tableServiceUri"] = "https://stthreepl.table.core.windows.net/",
        }).Build();

    [Fact]
    public void Identity_settings_give_clients_on_the_configured_endpoints_with_the_user_assigned_identity()
    {
        var configuration = Identity();

        var tables = StorageClients.Tables(configuration);
        var queues = StorageClients.Queues(configuration);

        Assert.Equal(new Uri("https://stthreepl.table.core.windows.net/"), tables.Uri);
        Assert.Equal("stthreepl", tables.AccountName);
        Assert.Equal(new Uri("https://stthreepl.queue.core.windows.net/"), queues.Uri);
        Assert.Equal("stthreepl", queues.AccountName);
        // No key anywhere: a client built from a connection string would be able to sign; these cannot.
        Assert.False(queues.CanGenerateAccountSasUri);
        Assert.IsType<ManagedIdentityCredential>(StorageClients.Credential(configuration));
    }

    [Fact]
    public void Without_a_client_id_the_default_credential_chain_is_used_and_without_endpoints_the_error_names_the_settings()
    {
        Assert.IsType<DefaultAzureCredential>(StorageClients.Credential(Identity(clientId: null)));

        var bare = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["AzureWebJobsStorage:accountName"] = "stother" }).Build();
        Assert.Equal(new Uri("https://stother.table.core.windows.net"), StorageClients.Tables(bare).Uri);

        var none = new ConfigurationBuilder().Build();
        var failure = Assert.Throws<InvalidOperationException>(() => StorageClients.Queues(none));
        Assert.Contains("AzureWebJobsStorage__queueServiceUri", failure.Message, StringComparison.Ordinal);
    }
}
