using System.Net;
using System.Net.Http.Json;

namespace ThreePL.Functions.Tests.Infrastructure;

public sealed record SeededAccount(string Id, string Kind, string Email, string ApiKey);

public static class Seed
{
    public static async Task<SeededAccount> AccountAsync(TestApp app, string kind = "merchant", string? email = null)
    {
        email ??= $"{Guid.NewGuid():N}@example.com";
        using var admin = app.Admin();
        var response = await admin.PostAsJsonAsync("/v1/admin/accounts", new { kind, name = $"Test {kind}", email });
        var json = await ApiAssert.Json(response, HttpStatusCode.Created);
        return new SeededAccount(json.GetProperty("id").GetString()!, kind, email, json.GetProperty("apiKey").GetString()!);
    }
}

public static class Connect
{
    /// <summary>An active connection: the 3PL invites the merchant by id, the merchant approves.</summary>
    public static async Task<string> ActiveAsync(TestApp app, SeededAccount threePl, SeededAccount merchant)
    {
        var id = await InviteAsync(app, threePl, new { accountId = merchant.Id });
        using var client = app.WithKey(merchant.ApiKey);
        await ApiAssert.Json(await client.PostAsJsonAsync($"/v1/connections/{id}/approve", new { confirm = true }), HttpStatusCode.OK);
        return id;
    }

    public static async Task<string> InviteAsync(TestApp app, SeededAccount inviter, object body)
    {
        using var client = app.WithKey(inviter.ApiKey);
        var created = await ApiAssert.Json(await client.PostAsJsonAsync("/v1/connections", body), HttpStatusCode.Created);
        return created.GetProperty("id").GetString()!;
    }
}
