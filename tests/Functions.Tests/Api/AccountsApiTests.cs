using System.Net;
using System.Net.Http.Json;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Api;

[Collection("azurite")]
public sealed class AccountsApiTests(AzuriteFixture azurite) : IDisposable
{
    private readonly TestApp _app = new(azurite);

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task Operator_creates_accounts_and_the_first_key_reads_its_own_account()
    {
        using var admin = _app.Admin();
        var response = await admin.PostAsJsonAsync("/v1/admin/accounts", new { kind = "threepl", name = "Fast Fulfilment", email = "Ops@FastFulfil.example" });
        var created = await ApiAssert.Json(response, HttpStatusCode.Created);
        Assert.StartsWith("acc_", created.GetProperty("id").GetString());
        Assert.Equal("threepl", created.GetProperty("kind").GetString());
        Assert.Equal("ops@fastfulfil.example", created.GetProperty("email").GetString());
        var key = created.GetProperty("apiKey").GetString()!;

        using var client = _app.WithKey(key);
        var account = await ApiAssert.Json(await client.GetAsync("/v1/account"), HttpStatusCode.OK);
        Assert.Equal(created.GetProperty("id").GetString(), account.GetProperty("id").GetString());
        Assert.Equal("Fast Fulfilment", account.GetProperty("name").GetString());
        Assert.False(account.TryGetProperty("apiKey", out _));
    }

    [Fact]
    public async Task Duplicate_email_is_refused_whatever_its_casing()
    {
        await Seed.AccountAsync(_app, email: "shop@example.com");
        using var admin = _app.Admin();
        var response = await admin.PostAsJsonAsync("/v1/admin/accounts", new { kind = "threepl", name = "Other", email = " SHOP@example.COM " });
        await ApiAssert.Problem(response, HttpStatusCode.Conflict, "account_email_taken");
    }

    [Fact]
    public async Task Concurrent_creates_with_one_email_make_exactly_one_account()
    {
        using var admin = _app.Admin();
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            admin.PostAsJsonAsync("/v1/admin/accounts", new { kind = "merchant", name = "Racer", email = "race@example.com" })));
        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(9, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    [InlineData("Basic dGVzdA==")]
    public async Task Admin_endpoints_need_the_operator_key(string? authorization)
    {
        using var client = _app.CreateClient();
        if (authorization is not null)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization.Contains(' ') ? authorization : $"Bearer {authorization}");
        }
        var response = await client.PostAsJsonAsync("/v1/admin/accounts", new { kind = "merchant", name = "X", email = "x@example.com" });
        await ApiAssert.Problem(response, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task An_account_key_is_not_an_operator_key()
    {
        var merchant = await Seed.AccountAsync(_app);
        using var client = _app.WithKey(merchant.ApiKey);
        var response = await client.PostAsJsonAsync("/v1/admin/accounts", new { kind = "merchant", name = "X", email = "y@example.com" });
        await ApiAssert.Problem(response, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task Invalid_fields_are_named_and_nothing_is_created()
    {
        using var admin = _app.Admin();
        var response = await admin.PostAsJsonAsync("/v1/admin/accounts", new { kind = "warehouse", name = new string('x', 201), email = "not-an-email" });
        var problem = await ApiAssert.Problem(response, HttpStatusCode.BadRequest, "validation_failed");
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("kind", out _));
        Assert.True(errors.TryGetProperty("name", out _));
        Assert.True(errors.TryGetProperty("email", out _));

        var retry = await admin.PostAsJsonAsync("/v1/admin/accounts", new { kind = "merchant", name = "Fine", email = "not-an-email@example.com" });
        await ApiAssert.Json(retry, HttpStatusCode.Created);
    }
}
