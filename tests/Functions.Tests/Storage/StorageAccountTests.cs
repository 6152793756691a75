using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using ThreePL.Functions.Storage;

namespace ThreePL.Functions.Tests.Storage;

public sealed class StorageAccountTests
{
    private const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    [Fact]
    public void Development_storage_points_at_local_azurite_path_style()
    {
        var account = StorageAccount.Parse("UseDevelopmentStorage=true");

        Assert.Equal("devstoreaccount1", account.AccountName);
        Assert.Equal(new Uri("http://127.0.0.1:10002/devstoreaccount1"), account.TableEndpoint);
        Assert.Equal(new Uri("http://127.0.0.1:10001/devstoreaccount1"), account.QueueEndpoint);
    }

    [Fact]
    public void Account_key_string_derives_endpoints_from_suffix_and_protocol()
    {
        var account = StorageAccount.Parse($"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={Key};EndpointSuffix=core.chinacloudapi.cn");
        var defaults = StorageAccount.Parse($"AccountName=acme;AccountKey={Key}");

        Assert.Equal("acme", account.AccountName);
        Assert.Equal(new Uri("https://acme.table.core.chinacloudapi.cn"), account.TableEndpoint);
        Assert.Equal(new Uri("https://acme.queue.core.chinacloudapi.cn"), account.QueueEndpoint);
        Assert.Equal(new Uri("https://acme.table.core.windows.net"), defaults.TableEndpoint);
    }

    [Fact]
    public void Explicit_endpoints_win_and_lose_their_trailing_slash()
    {
        var account = StorageAccount.Parse(
            $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={Key};TableEndpoint=http://127.0.0.1:5000/devstoreaccount1/;QueueEndpoint=http://127.0.0.1:5001/devstoreaccount1;");

        Assert.Equal(new Uri("http://127.0.0.1:5000/devstoreaccount1"), account.TableEndpoint);
        Assert.Equal(new Uri("http://127.0.0.1:5001/devstoreaccount1"), account.QueueEndpoint);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("AccountName=acme")]
    [InlineData("AccountKey=abc=")]
    [InlineData("AccountName=acme;AccountKey=not*base64")]
    [InlineData("AccountName=acme;AccountKey=YWJj;DefaultEndpointsProtocol=ftp")]
    [InlineData("AccountName=acme;AccountKey=YWJj;TableEndpoint=not a uri")]
    public void Malformed_strings_fail_with_format_exception(string connectionString)
    {
        Assert.Throws<FormatException>(() => StorageAccount.Parse(connectionString));
    }

    [Fact]
    public void Empty_string_is_an_argument_error()
    {
        Assert.ThrowsAny<ArgumentException>(() => StorageAccount.Parse(" "));
    }

    [Fact]
    public void Credential_account_takes_its_name_from_the_host()
    {
        var account = StorageAccount.FromCredential(
            new Uri("https://acme.table.core.windows.net/"), new Uri("https://acme.queue.core.windows.net"), new DefaultAzureCredential());

        Assert.Equal("acme", account.AccountName);
        Assert.Equal(new Uri("https://acme.table.core.windows.net"), account.TableEndpoint);
    }

    [Fact]
    public void Table_string_to_sign_covers_verb_type_date_and_doubled_account_path()
    {
        var request = NewRequest(RequestMethod.Get, "http://127.0.0.1:10002/devstoreaccount1/orders(PartitionKey='a',RowKey='b')?$filter=x&comp=metadata");
        request.Headers.Add("Content-Type", "application/json");
        request.Headers.Add("x-ms-date", "Fri, 21 Nov 2025 12:00:00 GMT");

        var stringToSign = SharedKeyPolicy.BuildTableStringToSign(request, "devstoreaccount1");

        Assert.Equal(
            "GET\n\napplication/json\nFri, 21 Nov 2025 12:00:00 GMT\n/devstoreaccount1/devstoreaccount1/orders(PartitionKey='a',RowKey='b')?comp=metadata",
            stringToSign);
    }

    [Fact]
    public void Queue_string_to_sign_covers_length_sorted_ms_headers_and_decoded_query()
    {
        var request = NewRequest(RequestMethod.Delete, "http://127.0.0.1:10001/devstoreaccount1/jobs/messages/id1?popreceipt=a%2Bb%2F&VisibilityTimeout=5");
        request.Headers.Add("x-ms-version", "2024-11-04");
        request.Headers.Add("x-ms-date", "Fri, 21 Nov 2025 12:00:00 GMT");
        request.Headers.Add("x-ms-client-request-id", "abc");
        request.Content = RequestContent.Create(new byte[] { 1, 2, 3 });

        var stringToSign = SharedKeyPolicy.BuildQueueStringToSign(request, "devstoreaccount1");

        Assert.Equal(
            "DELETE\n\n\n3\n\n\n\n\n\n\n\n\n" +
            "x-ms-client-request-id:abc\nx-ms-date:Fri, 21 Nov 2025 12:00:00 GMT\nx-ms-version:2024-11-04\n" +
            "/devstoreaccount1/devstoreaccount1/jobs/messages/id1\npopreceipt:a+b/\nvisibilitytimeout:5",
            stringToSign);
    }

    private static Request NewRequest(RequestMethod method, string uri)
    {
        var request = HttpPipelineBuilder.Build(new StorageClientOptions()).CreateRequest();
        request.Method = method;
        request.Uri.Reset(new Uri(uri));
        return request;
    }
}
