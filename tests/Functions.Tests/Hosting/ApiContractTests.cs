using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Hosting;

/// <summary>The check every test client runs (<see cref="ContractCheckingHandler"/>) catches what it is there to catch.</summary>
public sealed class ApiContractTests
{
    private const string Key = """{"id":"key_1","name":"n","permissions":["*"],"connectionId":null,"enabled":true,"createdAt":"2026-12-01T00:00:00+00:00","lastUsedAt":null}""";

    private static readonly ApiContract Contract = ApiContract.Document;

    [Fact]
    public void A_declared_response_with_a_valid_body_passes() =>
        Assert.Empty(Contract.Check("GET", "/v1/api-keys", 200, "application/json; charset=utf-8", $$"""{"items":[{{Key}}],"nextCursor":null}"""));

    [Fact]
    public void An_undeclared_status_fails() =>
        Assert.Contains("does not declare", Assert.Single(Contract.Check("GET", "/v1/api-keys", 418, "application/json", "{}")), StringComparison.Ordinal);

    [Fact]
    public void An_undeclared_content_type_fails() =>
        Assert.Contains("text/plain", Assert.Single(Contract.Check("GET", "/v1/account", 200, "text/plain", "ok")), StringComparison.Ordinal);

    [Theory]
    [InlineData("""{"items":[{"id":"key_1"}],"nextCursor":null}""", "$.items[0].name is required")]
    [InlineData("""{"items":[],"nextCursor":3}""", "$.nextCursor is integer")]
    [InlineData("""{"items":null,"nextCursor":null}""", "$.items is null")]
    public void A_body_off_the_schema_fails(string body, string expected) =>
        Assert.Contains(Contract.Check("GET", "/v1/api-keys", 200, "application/json", body), v => v.Contains(expected, StringComparison.Ordinal));

    [Fact]
    public void A_problem_code_the_operation_does_not_list_fails() =>
        Assert.NotEmpty(Contract.Check("GET", "/v1/account", 401, "application/problem+json",
            """{"type":"t","title":"t","status":401,"code":"connection_already_pending","correlationId":"c"}"""));

    [Fact]
    public void A_path_outside_the_document_may_only_be_the_hosts_bare_404()
    {
        Assert.Empty(Contract.Check("GET", "/v1/nothing", 404, null, ""));
        Assert.NotEmpty(Contract.Check("PUT", "/v1/account", 405, null, ""));
        Assert.NotEmpty(Contract.Check("GET", "/v1/nothing", 200, "application/json", "{}"));
    }

    /// <summary>A client for an app of its own fails its test with a violation the test swallowed, when it is disposed.</summary>
    [Fact]
    public async Task A_process_client_fails_on_dispose_with_a_violation_the_test_swallowed()
    {
        await using var offContract = await Webhooks.TestReceiver.StartAsync();
        var client = ApiContract.Client(offContract.BaseUrl);
        await Assert.ThrowsAsync<ContractViolationException>(() => client.GetAsync("/v1/nothing"));
        var disposed = Assert.Throws<ContractViolationException>(client.Dispose);
        Assert.Contains("/v1/nothing", disposed.Message, StringComparison.Ordinal);
    }
}
