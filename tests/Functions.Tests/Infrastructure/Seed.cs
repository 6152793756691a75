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
