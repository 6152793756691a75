using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ThreePL.Functions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ThreePL.Functions.Tests.Security;

/// <summary>
/// An invitation by e-mail does not tell the inviter whether the address has an account, or of which kind: an
/// unknown address, a merchant's and another 3PL's all get the same answer, and a second invitation the same
/// conflict. The owner of an address that cannot connect learns why from the e-mail.
/// </summary>
[Collection("azurite")]
public sealed class InvitationEnumerationTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    [Fact]
    public async Task Inviting_an_unknown_a_merchant_and_a_3pl_address_answers_alike()
    {
        var floor = TimeSpan.FromSeconds(1);
        using var app = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:InvitationAnswerFloor"] = floor.ToString() });
        var inviter = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var otherThreePl = await Seed.AccountAsync(app, "threepl");
        using var tpl = app.WithKey(inviter.ApiKey);
        var addresses = new (string Case, string Email)[]
        {
            ("unknown address", $"{Guid.NewGuid():N}@example.com"),
            ("merchant's address", merchant.Email),
            ("another 3PL's address", otherThreePl.Email),
        };

        // The first invitation of a process also pays for its cold code paths (the fresh-clone CI run once took 1.5 s for
        // it while the suite's other collections ran), which tells an inviter nothing about the address: warm them first.
        await ApiAssert.Json(await tpl.PostAsJsonAsync("/v1/connections", new { email = $"{Guid.NewGuid():N}@example.com" }), HttpStatusCode.Created);

        var answers = new List<(string Case, JsonElement Body, TimeSpan Took)>();
        foreach (var (name, email) in addresses)
        {
            var started = Stopwatch.GetTimestamp();
            var response = await tpl.PostAsJsonAsync("/v1/connections", new { email });
            var took = Stopwatch.GetElapsedTime(started);
            answers.Add((name, await ApiAssert.Json(response, HttpStatusCode.Created), took));
            await ApiAssert.Problem(await tpl.PostAsJsonAsync("/v1/connections", new { email }), HttpStatusCode.Conflict, "connection_already_pending");
        }

        var shapes = answers.Select(a => string.Join(',', a.Body.EnumerateObject().Select(p => $"{p.Name}:{p.Value.ValueKind}"))).Distinct().ToList();
        Assert.Single(shapes);
        Assert.All(answers, a =>
        {
            Assert.Equal("pending", a.Body.GetProperty("status").GetString());
            Assert.Equal(inviter.Id, a.Body.GetProperty("threePlAccountId").GetString());
            Assert.StartsWith("acc_", a.Body.GetProperty("merchantAccountId").GetString(), StringComparison.Ordinal);
        });
        Assert.Equal(merchant.Id, answers[1].Body.GetProperty("merchantAccountId").GetString());
        Assert.DoesNotContain(answers, a => a.Body.GetRawText().Contains(otherThreePl.Id, StringComparison.Ordinal));
        foreach (var (name, _, took) in answers)
        {
            output.WriteLine($"{name}: {took.TotalMilliseconds:0.0} ms");
        }
        // Creating the invitee's account makes the unknown address the most expensive; every answer waits out the floor,
        // so none is told apart by its time (the work itself takes far less than the floor, even on a loaded machine).
        // (A timer may fire a millisecond or so before the stopwatch says its time is up.)
        Assert.All(answers, a => Assert.True(a.Took >= floor - TimeSpan.FromMilliseconds(15), $"{a.Case} answered in {a.Took.TotalMilliseconds:0} ms, before the floor"));
        Assert.True(answers.Max(a => a.Took) - answers.Min(a => a.Took) < TimeSpan.FromMilliseconds(400),
            string.Join(", ", answers.Select(a => $"{a.Case} {a.Took.TotalMilliseconds:0} ms")));

        // The 3PL at that address learns the truth, and only it; the inviter is told nothing more than for any invitation.
        var notice = await Mailbox.WaitForAsync(app, otherThreePl.Email);
        Assert.Contains("cannot accept", notice.Text, StringComparison.Ordinal);
        Assert.Empty(notice.ConnectLink);
        await Mailbox.WaitForAsync(app, merchant.Email);
        var standIn = answers[2].Body.GetProperty("id").GetString()!;
        Assert.Equal("pending", (await ApiAssert.Json(await tpl.GetAsync($"/v1/connections/{standIn}"), HttpStatusCode.OK)).GetProperty("status").GetString());
        await ApiAssert.Json(await tpl.PostAsync($"/v1/connections/{standIn}/cancel", null), HttpStatusCode.OK);
        using var other = app.WithKey(otherThreePl.ApiKey);
        Assert.DoesNotContain(standIn, await other.GetStringAsync("/v1/connections"), StringComparison.Ordinal);
    }

    /// <summary>
    /// The id an invitation by e-mail answers (<c>merchantAccountId</c>) is no oracle either: inviting it by id, reading,
    /// cancelling and inviting it again answer for a stand-in exactly as for a real invitee.
    /// </summary>
    [Fact]
    public async Task The_invitee_id_of_an_e_mail_invitation_behaves_alike_in_every_later_call()
    {
        using var app = new TestApp(azurite);
        var inviter = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var otherThreePl = await Seed.AccountAsync(app, "threepl");
        using var tpl = app.WithKey(inviter.ApiKey);

        var traces = new List<(string Case, string Trace)>();
        foreach (var (name, email) in new[] { ("unknown address", $"{Guid.NewGuid():N}@example.com"), ("merchant's address", merchant.Email), ("another 3PL's address", otherThreePl.Email) })
        {
            var trace = new List<string>();
            async Task<JsonElement> StepAsync(string step, HttpResponseMessage response)
            {
                var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
                trace.Add($"{step}: {(int)response.StatusCode} {(body.TryGetProperty("code", out var code) ? code.GetString() : body.GetProperty("status").GetString())}");
                return body;
            }
            var invited = await StepAsync("invite by e-mail", await tpl.PostAsJsonAsync("/v1/connections", new { email }));
            var invitee = invited.GetProperty("merchantAccountId").GetString()!;
            var first = invited.GetProperty("id").GetString()!;
            await StepAsync("invite by id while pending", await tpl.PostAsJsonAsync("/v1/connections", new { accountId = invitee }));
            await StepAsync("read", await tpl.GetAsync($"/v1/connections/{first}"));
            await StepAsync("cancel", await tpl.PostAsync($"/v1/connections/{first}/cancel", null));
            var again = await StepAsync("invite by id after cancel", await tpl.PostAsJsonAsync("/v1/connections", new { accountId = invitee }));
            Assert.True(again.TryGetProperty("inviteeEmail", out var address) && address.GetString() == email.ToLowerInvariant(), $"{name}: {again}");
            await StepAsync("invite by e-mail again", await tpl.PostAsJsonAsync("/v1/connections", new { email }));
            await StepAsync("cancel again", await tpl.PostAsync($"/v1/connections/{again.GetProperty("id").GetString()}/cancel", null));
            traces.Add((name, string.Join("; ", trace)));
        }
        Assert.True(traces.Select(t => t.Trace).Distinct().Count() == 1, string.Join("\n", traces.Select(t => $"{t.Case}: {t.Trace}")));
    }
}
