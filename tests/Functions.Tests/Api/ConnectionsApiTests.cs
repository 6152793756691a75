using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Api;

[Collection("azurite")]
public sealed class ConnectionsApiTests(AzuriteFixture azurite) : IDisposable
{
    private readonly TestApp _app = new(azurite);

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task Invite_by_email_mails_the_invitee_and_approval_makes_it_active()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var merchant = await Seed.AccountAsync(_app, "merchant");
        using var tpl = _app.WithKey(threePl.ApiKey);
        var created = await ApiAssert.Json(await tpl.PostAsJsonAsync("/v1/connections", new { email = merchant.Email.ToUpperInvariant(), clientName = "Socks Co", companyName = "Fast Fulfilment" }), HttpStatusCode.Created);
        Assert.Equal("pending", created.GetProperty("status").GetString());
        Assert.Equal(threePl.Id, created.GetProperty("threePlAccountId").GetString());
        Assert.Equal(merchant.Id, created.GetProperty("merchantAccountId").GetString());
        Assert.Equal("threepl", created.GetProperty("invitedBy").GetString());
        Assert.Equal(merchant.Email, created.GetProperty("inviteeEmail").GetString());
        Assert.Equal(JsonValueKind.String, created.GetProperty("expiresAt").ValueKind);
        var id = created.GetProperty("id").GetString()!;

        var mail = await Mailbox.WaitForAsync(_app, merchant.Email);
        Assert.Contains("Test threepl", mail.Subject, StringComparison.Ordinal);
        Assert.Contains("receives your new orders", mail.Text, StringComparison.Ordinal);
        Assert.StartsWith(id + ".", mail.ConnectToken, StringComparison.Ordinal);

        using var shop = _app.WithKey(merchant.ApiKey);
        var seen = await ApiAssert.Json(await shop.GetAsync($"/v1/connections/{id}"), HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Null, seen.GetProperty("clientName").ValueKind);
        Assert.Equal("Fast Fulfilment", seen.GetProperty("companyName").GetString());

        await ApiAssert.Problem(await shop.PostAsJsonAsync($"/v1/connections/{id}/approve", new { }), HttpStatusCode.BadRequest, "confirmation_required");
        await ApiAssert.Problem(await tpl.PostAsJsonAsync($"/v1/connections/{id}/approve", new { confirm = true }), HttpStatusCode.Forbidden, "not_invitee");
        var approved = await ApiAssert.Json(await shop.PostAsJsonAsync($"/v1/connections/{id}/approve", new { confirm = true }), HttpStatusCode.OK);
        Assert.Equal("active", approved.GetProperty("status").GetString());
        var again = await ApiAssert.Problem(await shop.PostAsJsonAsync($"/v1/connections/{id}/approve", new { confirm = true }), HttpStatusCode.Conflict, "invalid_transition");
        Assert.Equal("active", again.GetProperty("currentStatus").GetString());
    }

    [Fact]
    public async Task A_second_invitation_while_pending_is_refused_and_allowed_after_decline()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var merchant = await Seed.AccountAsync(_app, "merchant");
        var first = await Connect.InviteAsync(_app, threePl, new { accountId = merchant.Id });
        using var tpl = _app.WithKey(threePl.ApiKey);
        using var shop = _app.WithKey(merchant.ApiKey);

        var pending = await ApiAssert.Problem(await tpl.PostAsJsonAsync("/v1/connections", new { accountId = merchant.Id }), HttpStatusCode.Conflict, "connection_already_pending");
        Assert.Equal(first, pending.GetProperty("connectionId").GetString());
        await ApiAssert.Problem(await shop.PostAsJsonAsync("/v1/connections", new { accountId = threePl.Id }), HttpStatusCode.Conflict, "connection_already_pending");

        Assert.Equal("declined", (await ApiAssert.Json(await shop.PostAsync($"/v1/connections/{first}/decline", null), HttpStatusCode.OK)).GetProperty("status").GetString());
        var second = await Connect.InviteAsync(_app, merchant, new { accountId = threePl.Id });
        Assert.NotEqual(first, second);
        await ApiAssert.Json(await tpl.PostAsJsonAsync($"/v1/connections/{second}/approve", new { confirm = true }), HttpStatusCode.OK);
        await ApiAssert.Problem(await tpl.PostAsJsonAsync("/v1/connections", new { accountId = merchant.Id }), HttpStatusCode.Conflict, "connection_already_active");
    }

    [Fact]
    public async Task Inviter_cancels_while_pending_then_can_invite_again()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var merchant = await Seed.AccountAsync(_app, "merchant");
        var id = await Connect.InviteAsync(_app, threePl, new { accountId = merchant.Id });
        using var tpl = _app.WithKey(threePl.ApiKey);
        using var shop = _app.WithKey(merchant.ApiKey);
        await ApiAssert.Problem(await shop.PostAsync($"/v1/connections/{id}/cancel", null), HttpStatusCode.Forbidden, "not_inviter");
        Assert.Equal("cancelled", (await ApiAssert.Json(await tpl.PostAsync($"/v1/connections/{id}/cancel", null), HttpStatusCode.OK)).GetProperty("status").GetString());
        await Connect.InviteAsync(_app, threePl, new { accountId = merchant.Id });
    }

    [Fact]
    public async Task Deactivate_reactivate_and_disconnect_by_either_party()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var merchant = await Seed.AccountAsync(_app, "merchant");
        var id = await Connect.ActiveAsync(_app, threePl, merchant);
        using var tpl = _app.WithKey(threePl.ApiKey);
        using var shop = _app.WithKey(merchant.ApiKey);

        Assert.Equal("inactive", (await ApiAssert.Json(await shop.PostAsync($"/v1/connections/{id}/deactivate", null), HttpStatusCode.OK)).GetProperty("status").GetString());
        Assert.Equal("active", (await ApiAssert.Json(await tpl.PostAsync($"/v1/connections/{id}/reactivate", null), HttpStatusCode.OK)).GetProperty("status").GetString());
        Assert.Equal("disconnected", (await ApiAssert.Json(await tpl.PostAsync($"/v1/connections/{id}/disconnect", null), HttpStatusCode.OK)).GetProperty("status").GetString());
        var problem = await ApiAssert.Problem(await shop.PostAsync($"/v1/connections/{id}/reactivate", null), HttpStatusCode.Conflict, "invalid_transition");
        Assert.Equal("disconnected", problem.GetProperty("currentStatus").GetString());
        await Connect.ActiveAsync(_app, threePl, merchant);
    }

    [Fact]
    public async Task Connections_of_other_parties_are_not_found()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var merchant = await Seed.AccountAsync(_app, "merchant");
        var stranger = await Seed.AccountAsync(_app, "merchant");
        var id = await Connect.ActiveAsync(_app, threePl, merchant);
        using var other = _app.WithKey(stranger.ApiKey);

        await ApiAssert.Problem(await other.GetAsync($"/v1/connections/{id}"), HttpStatusCode.NotFound, "not_found");
        await ApiAssert.Problem(await other.GetAsync($"/v1/connections/{id}/settings"), HttpStatusCode.NotFound, "not_found");
        foreach (var action in new[] { "approve", "decline", "cancel", "deactivate", "reactivate", "disconnect" })
        {
            await ApiAssert.Problem(await other.PostAsJsonAsync($"/v1/connections/{id}/{action}", new { confirm = true }), HttpStatusCode.NotFound, "not_found");
        }
        var list = await ApiAssert.Json(await other.GetAsync("/v1/connections"), HttpStatusCode.OK);
        Assert.Equal(0, list.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Both_parties_list_their_connections_by_status()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var shopA = await Seed.AccountAsync(_app, "merchant");
        var shopB = await Seed.AccountAsync(_app, "merchant");
        var active = await Connect.ActiveAsync(_app, threePl, shopA);
        var pending = await Connect.InviteAsync(_app, threePl, new { accountId = shopB.Id });
        using var tpl = _app.WithKey(threePl.ApiKey);

        var all = await ApiAssert.Json(await tpl.GetAsync("/v1/connections"), HttpStatusCode.OK);
        Assert.Equal(new[] { active, pending }.Order(), all.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!).Order());
        var onlyPending = await ApiAssert.Json(await tpl.GetAsync("/v1/connections?status=pending"), HttpStatusCode.OK);
        Assert.Equal(pending, onlyPending.GetProperty("items").EnumerateArray().Single().GetProperty("id").GetString());
        await ApiAssert.Problem(await tpl.GetAsync("/v1/connections?status=bogus"), HttpStatusCode.BadRequest, "validation_failed");

        using var shop = _app.WithKey(shopA.ApiKey);
        var merchantView = await ApiAssert.Json(await shop.GetAsync("/v1/connections"), HttpStatusCode.OK);
        Assert.Equal(active, merchantView.GetProperty("items").EnumerateArray().Single().GetProperty("id").GetString());
    }

    [Fact]
    public async Task Inviting_an_unknown_email_creates_a_not_yet_activated_account_of_the_other_kind()
    {
        var merchant = await Seed.AccountAsync(_app, "merchant");
        var id = await Connect.InviteAsync(_app, merchant, new { email = "new-3pl@example.com", companyName = "Shop" });
        using var shop = _app.WithKey(merchant.ApiKey);
        var connection = await ApiAssert.Json(await shop.GetAsync($"/v1/connections/{id}"), HttpStatusCode.OK);
        Assert.Equal("merchant", connection.GetProperty("invitedBy").GetString());
        var mail = await Mailbox.WaitForAsync(_app, "new-3pl@example.com");
        Assert.Contains("create it", mail.Text, StringComparison.Ordinal);

        using var admin = _app.Admin();
        await ApiAssert.Problem(await admin.PostAsJsonAsync("/v1/admin/accounts", new { kind = "threepl", name = "x", email = "new-3pl@example.com" }), HttpStatusCode.Conflict, "account_email_taken");
    }

    [Fact]
    public async Task Invitations_that_make_no_sense_are_refused()
    {
        var threePl = await Seed.AccountAsync(_app, "threepl");
        var otherThreePl = await Seed.AccountAsync(_app, "threepl");
        using var tpl = _app.WithKey(threePl.ApiKey);
        await ApiAssert.Problem(await tpl.PostAsJsonAsync("/v1/connections", new { accountId = threePl.Id }), HttpStatusCode.BadRequest, "validation_failed");
        await ApiAssert.Problem(await tpl.PostAsJsonAsync("/v1/connections", new { accountId = otherThreePl.Id }), HttpStatusCode.BadRequest, "validation_failed");
        await ApiAssert.Problem(await tpl.PostAsJsonAsync("/v1/connections", new { }), HttpStatusCode.BadRequest, "validation_failed");
        await ApiAssert.Problem(await tpl.PostAsJsonAsync("/v1/connections", new { email = "a@b.co", accountId = "acc_00000000000000000000" }), HttpStatusCode.BadRequest, "validation_failed");
        await ApiAssert.Problem(await tpl.PostAsJsonAsync("/v1/connections", new { accountId = "acc_' or 1 eq 1" }), HttpStatusCode.BadRequest, "validation_failed");
        await ApiAssert.Problem(await tpl.PostAsJsonAsync("/v1/connections", new { accountId = "acc_00000000000000000000" }), HttpStatusCode.BadRequest, "validation_failed");
        var list = await ApiAssert.Json(await tpl.GetAsync("/v1/connections"), HttpStatusCode.OK);
        Assert.Equal(0, list.GetProperty("items").GetArrayLength());
    }
}
