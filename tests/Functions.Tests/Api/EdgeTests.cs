using System.Net;
using System.Text.Json;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Api;

[Collection("azurite")]
public sealed class EdgeTests(AzuriteFixture azurite) : IDisposable
{
    private readonly TestApp _app = new(azurite);

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task Health_and_readiness_answer_without_a_key()
    {
        using var client = _app.CreateClient();
        Assert.Equal("ok", (await ApiAssert.Json(await client.GetAsync("/healthz"), HttpStatusCode.OK)).GetProperty("status").GetString());
        Assert.Equal("ready", (await ApiAssert.Json(await client.GetAsync("/readyz"), HttpStatusCode.OK)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Readiness_fails_with_a_problem_when_storage_is_unreachable()
    {
        using var broken = new TestApp(azurite, new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:1/devstoreaccount1;QueueEndpoint=http://127.0.0.1:1/devstoreaccount1;",
        });
        using var client = broken.CreateClient();
        await ApiAssert.Problem(await client.GetAsync("/readyz"), HttpStatusCode.ServiceUnavailable, "storage_unavailable");

        // A request that needs storage gets a 503 problem with Retry-After, not a 500.
        client.DefaultRequestHeaders.Add("Authorization", "Bearer tpl_acc_00000000000000000000.key_00000000000000000000.AAAAAAAAAAAAAAAAAAAAAAAA");
        var response = await client.GetAsync("/v1/account");
        await ApiAssert.Problem(response, HttpStatusCode.ServiceUnavailable, "storage_unavailable");
        Assert.Equal("5", response.Headers.RetryAfter?.ToString());
    }

    [Fact]
    public async Task OpenApi_document_lists_the_endpoints()
    {
        using var client = _app.CreateClient();
        var document = await ApiAssert.Json(await client.GetAsync("/openapi/v1.json"), HttpStatusCode.OK);
        var paths = document.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/v1/admin/accounts", out _));
        Assert.True(paths.TryGetProperty("/v1/api-keys/{id}", out _));
        Assert.True(paths.TryGetProperty("/healthz", out _));
    }

    [Fact]
    public async Task Correlation_id_is_echoed_and_carried_in_problems()
    {
        using var client = _app.CreateClient();
        client.DefaultRequestHeaders.Add("X-Correlation-Id", "abc-123");
        var response = await client.GetAsync("/v1/account");
        Assert.Equal("abc-123", response.Headers.GetValues("X-Correlation-Id").Single());
        var problem = await ApiAssert.Problem(response, HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal("abc-123", problem.GetProperty("correlationId").GetString());
    }

    [Fact]
    public async Task Unsafe_correlation_ids_are_replaced()
    {
        using var client = _app.CreateClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("X-Correlation-Id", "<script>");
        var response = await client.GetAsync("/healthz");
        Assert.NotEqual("<script>", response.Headers.GetValues("X-Correlation-Id").Single());
    }
}
