using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using ThreePL.Functions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ThreePL.Functions.Tests.Workflows;

/// <summary>
/// The connection workflow end to end on Azurite (blob, queue, table) through the development host: Durable timers
/// in real time, the decision signal through the outbox, SIGKILL and restart, and two app instances on one task hub.
/// </summary>
[Collection("azurite")]
public sealed class ConnectionWorkflowIntegrationTests(AzuriteFixture azurite, ITestOutputHelper output) : IDisposable
{
    private readonly string _workingDirectory = Directory.CreateTempSubdirectory("threepl-workflow").FullName;

    public void Dispose() => Directory.Delete(_workingDirectory, recursive: true);

    [Fact]
    public async Task An_invitation_is_reminded_once_and_expires_by_its_durable_timer()
    {
        using var mail = new MailWatch(Path.Combine(_workingDirectory, "mail"));
        using var app = new TestApp(azurite, new Dictionary<string, string?>
        {
            ["ThreePL:InvitationTtl"] = "00:00:20",
            ["ThreePL:InvitationReminderAfter"] = "00:00:05",
            ["ThreePL:Email:PickupDirectory"] = mail.Directory,
        });
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        using var tpl = app.WithKey(threePl.ApiKey);
        var invited = await ApiAssert.Json(await tpl.PostAsJsonAsync("/v1/connections", new { email = merchant.Email }), HttpStatusCode.Created);
        var id = invited.GetProperty("id").GetString()!;
        var createdAt = invited.GetProperty("createdAt").GetDateTimeOffset();
        var expiresAt = invited.GetProperty("expiresAt").GetDateTimeOffset();
        using var admin = app.Admin();

        await mail.WaitForAsync("inv_" + id);
        var first = await WorkflowAsync(admin, id, w => w.Step is not null);
        Assert.Equal("running", first.RuntimeStatus);
        if (first.Step == "waiting_for_decision")
        {
            // The first timer is the invitation's own reminder time (on a loaded machine it may already have fired).
            Assert.Equal(createdAt + TimeSpan.FromSeconds(5), first.NextTimerAt);
        }

        await mail.WaitForAsync("rem_" + id);
        var reminded = await WorkflowAsync(admin, id, w => w.Step == "reminder_sent");
        Assert.Equal(expiresAt, reminded.NextTimerAt);
        var invitation = mail.Read("inv_" + id);
        Assert.Equal(invitation.ConnectLink, mail.Read("rem_" + id).ConnectLink);
        Assert.StartsWith("Reminder", mail.Read("rem_" + id).Subject, StringComparison.Ordinal);

        var done = await WorkflowAsync(admin, id, w => w.RuntimeStatus == "completed", TimeSpan.FromSeconds(40));
        Assert.Equal("expired", done.Output);
        using var shop = app.WithKey(merchant.ApiKey);
        var expired = await ApiAssert.Json(await shop.GetAsync($"/v1/connections/{id}"), HttpStatusCode.OK);
        Assert.Equal("expired", expired.GetProperty("status").GetString());
        var expiredAt = expired.GetProperty("updatedAt").GetDateTimeOffset();
        Assert.True(expiredAt >= expiresAt, $"expired at {expiredAt:O}, before {expiresAt:O}");
        output.WriteLine($"expiry recorded {(expiredAt - expiresAt).TotalMilliseconds:F0} ms after expiresAt");
        Assert.Equal(threePl.Email, mail.Read("out_" + id).To);
        Assert.Equal(new Dictionary<string, int> { ["inv_" + id] = 1, ["rem_" + id] = 1, ["out_" + id] = 1 }, mail.All);

        using var browser = app.CreateClient();
        Assert.Equal(HttpStatusCode.Gone, (await browser.GetAsync(new Uri(invitation.ConnectLink).PathAndQuery)).StatusCode);
        await ApiAssert.Problem(await shop.PostAsJsonAsync($"/v1/connections/{id}/approve", new { confirm = true }), HttpStatusCode.Conflict, "invalid_transition");
        var audit = await ApiAssert.Json(await tpl.GetAsync($"/v1/audit-events?connectionId={id}"), HttpStatusCode.OK);
        var last = audit.GetProperty("items").EnumerateArray().First();
        Assert.Equal("connection.expired", last.GetProperty("action").GetString());
        Assert.Contains("the system", last.GetProperty("summary").GetString(), StringComparison.Ordinal);
        await Connect.InviteAsync(app, threePl, new { accountId = merchant.Id });
    }

    [Fact]
    public async Task An_approval_completes_the_workflow_and_is_followed_up()
    {
        using var mail = new MailWatch(Path.Combine(_workingDirectory, "mail"));
        using var app = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:Email:PickupDirectory"] = mail.Directory });
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        using var admin = app.Admin();
        var latencies = new List<double>();
        string? previous = null;
        for (var round = 0; round < 5; round++)
        {
            if (previous is not null)
            {
                // The pair may be invited again once the previous connection is finished.
                using var either = app.WithKey(merchant.ApiKey);
                await ApiAssert.Json(await either.PostAsync($"/v1/connections/{previous}/disconnect", null), HttpStatusCode.OK);
            }
            var latestId = await Connect.InviteAsync(app, threePl, new { accountId = merchant.Id });
            await WorkflowAsync(admin, latestId, w => w.Step == "waiting_for_decision");

            using var shop = app.WithKey(merchant.ApiKey);
            var clock = Stopwatch.StartNew();
            var approved = await ApiAssert.Json(await shop.PostAsJsonAsync($"/v1/connections/{latestId}/approve", new { confirm = true }), HttpStatusCode.OK);
            Assert.Equal("active", approved.GetProperty("status").GetString());
            var done = await WorkflowAsync(admin, latestId, w => w.RuntimeStatus == "completed");
            latencies.Add(clock.Elapsed.TotalMilliseconds);
            Assert.Equal("active", done.Output);
            await mail.WaitForAsync("out_" + latestId);
            Assert.Equal(threePl.Email, mail.Read("out_" + latestId).To);
            Assert.Contains("approved", mail.Read("out_" + latestId).Subject, StringComparison.Ordinal);
            Assert.Equal(0, mail.Sends("rem_" + latestId));
            previous = latestId;
        }
        latencies.Sort();
        output.WriteLine($"approve answered → workflow completed: median {latencies[2]:F0} ms, max {latencies[^1]:F0} ms (5 runs, includes the admin poll)");
        Assert.All(mail.All.Values, sends => Assert.Equal(1, sends));
    }

    [Fact]
    public async Task Brand_onboarding_starts_the_workflow_which_mails_the_brand_once_and_follows_up_its_approval()
    {
        using var mail = new MailWatch(Path.Combine(_workingDirectory, "mail"));
        using var app = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:Email:PickupDirectory"] = mail.Directory });
        var threePl = await Seed.AccountAsync(app, "threepl");
        using var tpl = app.WithKey(threePl.ApiKey);
        var brandEmail = $"ana-{Guid.NewGuid():N}@socks.example";
        var created = await ApiAssert.Json(await tpl.PostAsJsonAsync("/v1/brands", new
        {
            contact = new { name = "Ana Ruiz", email = brandEmail },
            company = new { name = "Socks S.L.", shopUrl = "https://socks.example" },
            warehouse = new { name = "Main", address = new { line1 = "Calle 1", city = "Madrid", postalCode = "28001", countryCode = "ES" } },
            ordersPerMonth = "100-500",
        }), HttpStatusCode.Created);
        var id = created.GetProperty("connection").GetProperty("id").GetString()!;
        var sharedLink = created.GetProperty("loginLink").GetString()!;
        using var admin = app.Admin();

        var waiting = await WorkflowAsync(admin, id, w => w.Step == "waiting_for_decision");
        Assert.Equal("running", waiting.RuntimeStatus);
        // The workflow sent the invitation before it began to wait: the brand's inbox has the mailed link, never the shared one.
        Assert.Equal(1, mail.Sends("inv_" + id));
        var invitation = mail.Read("inv_" + id);
        Assert.Equal(brandEmail, invitation.To);
        Assert.NotEqual(new Uri(sharedLink).AbsolutePath, new Uri(invitation.ConnectLink).AbsolutePath);

        using var browser = app.CreateClient();
        var approval = await browser.PostAsync(invitation.ConnectLink, new FormUrlEncodedContent(
            [new("decision", "approve"), new("understood", "on"), new("name", "Socks S.L.")]));
        Assert.Equal(HttpStatusCode.OK, approval.StatusCode);
        var done = await WorkflowAsync(admin, id, w => w.RuntimeStatus == "completed");
        Assert.Equal("active", done.Output);
        await mail.WaitForAsync("out_" + id);
        Assert.Equal(threePl.Email, mail.Read("out_" + id).To);
        Assert.Equal(new Dictionary<string, int> { ["inv_" + id] = 1, ["out_" + id] = 1 }, mail.All);
    }

    [Fact]
    public async Task Resume_gives_invitations_made_before_the_durable_workflow_their_reminder_and_expiry_once()
    {
        using var mail = new MailWatch(Path.Combine(_workingDirectory, "mail"));
        using var app = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:Email:PickupDirectory"] = mail.Directory });
        var threePl = await Seed.AccountAsync(app, "threepl");
        var shops = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Seed.AccountAsync(app, "merchant")));
        var table = azurite.Tables.GetTableClient(app.Prefix + "connections");
        var now = DateTimeOffset.UtcNow;
        // Rows as the engine before the Durable workflow wrote them: its reminder time in ReminderDueAt (null once it had
        // sent the reminder), invitation e-mailed long ago, timers on a queue nothing reads any more.
        var remindAt = now + TimeSpan.FromSeconds(4);
        var expiresAt = now + TimeSpan.FromSeconds(12);
        var reminded = await OldPendingInvitationAsync(table, threePl, shops[0], createdAt: now - TimeSpan.FromHours(1), expiresAt, remindAt);
        var overdue = await OldPendingInvitationAsync(table, threePl, shops[1], createdAt: now - TimeSpan.FromDays(30), now - TimeSpan.FromDays(1), null);
        var recent = await OldPendingInvitationAsync(table, threePl, shops[2], createdAt: now - TimeSpan.FromMinutes(1), now + TimeSpan.FromDays(14), null);
        var current = await Connect.InviteAsync(app, threePl, new { accountId = shops[3].Id });
        using var admin = app.Admin();
        await WorkflowAsync(admin, current, w => w.Step is not null);
        using var tpl = app.WithKey(threePl.ApiKey);
        // Without a workflow the overdue invitation never expires, and its pair stays taken.
        await ApiAssert.Problem(await tpl.PostAsJsonAsync("/v1/connections", new { accountId = shops[1].Id }), HttpStatusCode.Conflict, "connection_already_pending");

        // A cursor is a connection id this API wrapped; a well-formed wrapping of anything else is refused before any work.
        var notAConnection = System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes($"pair|{threePl.Id}|{shops[1].Id}"));
        await ApiAssert.Problem(await admin.PostAsync($"/v1/admin/connection-workflows/resume?cursor={notAConnection}", null), HttpStatusCode.BadRequest, "validation_failed");
        await ApiAssert.Problem(await admin.PostAsync("/v1/admin/connection-workflows/resume?limit=0", null), HttpStatusCode.BadRequest, "validation_failed");

        var first = await ResumeAllAsync(admin);
        Assert.Equal(new ResumeCounts(4, 2, 1, 1), first);
        var second = await ResumeAllAsync(admin);
        Assert.Equal(0, second.Started);
        Assert.Equal(1, second.SkippedRecent);
        // Young enough to be this version's own invitation whose start signal is still on its way: left to that signal.
        await ApiAssert.Problem(await admin.GetAsync($"/v1/admin/connections/{recent}/workflow"), HttpStatusCode.NotFound, "not_found");

        var waiting = await WorkflowAsync(admin, reminded, w => w.Step is not null);
        if (waiting.Step == "waiting_for_decision")
        {
            Assert.Equal(remindAt, waiting.NextTimerAt);
        }
        Assert.Equal("expired", (await WorkflowAsync(admin, overdue, w => w.RuntimeStatus == "completed")).Output);
        Assert.Equal("expired", (await WorkflowAsync(admin, reminded, w => w.RuntimeStatus == "completed", TimeSpan.FromSeconds(40))).Output);
        await mail.WaitForAsync("out_" + reminded);
        await mail.WaitForAsync("out_" + overdue);
        Assert.Equal(threePl.Email, mail.Read("out_" + overdue).To);
        Assert.Equal(shops[0].Email, mail.Read("rem_" + reminded).To);
        Assert.Equal(new Dictionary<string, int> { ["inv_" + current] = 1, ["rem_" + reminded] = 1, ["out_" + reminded] = 1, ["out_" + overdue] = 1 }, mail.All);
        // The expiry rewrote the row in today's shape.
        Assert.False((await table.GetEntityAsync<Azure.Data.Tables.TableEntity>(reminded, "connection")).Value.ContainsKey(ThreePL.Functions.Connections.ConnectionStore.LegacyReminderDueAt));
        await Connect.InviteAsync(app, threePl, new { accountId = shops[1].Id });
    }

    private sealed record ResumeCounts(int Examined, int Started, int AlreadyStarted, int SkippedRecent);

    /// <summary>Calls the resume a page of two at a time until the last page, adding the counts up.</summary>
    private static async Task<ResumeCounts> ResumeAllAsync(HttpClient admin)
    {
        var total = new ResumeCounts(0, 0, 0, 0);
        string? cursor = null;
        do
        {
            var page = await ApiAssert.Json(await admin.PostAsync($"/v1/admin/connection-workflows/resume?limit=2{(cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))}", null), HttpStatusCode.OK);
            Assert.InRange(page.GetProperty("examined").GetInt32(), 0, 2);
            total = new ResumeCounts(
                total.Examined + page.GetProperty("examined").GetInt32(),
                total.Started + page.GetProperty("started").GetInt32(),
                total.AlreadyStarted + page.GetProperty("alreadyStarted").GetInt32(),
                total.SkippedRecent + page.GetProperty("skippedRecent").GetInt32());
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);
        return total;
    }

    /// <summary>A pending invitation with its pair claim and membership rows, written in the shape of the engine before Durable.</summary>
    private static async Task<string> OldPendingInvitationAsync(
        Azure.Data.Tables.TableClient table, SeededAccount threePl, SeededAccount merchant, DateTimeOffset createdAt, DateTimeOffset expiresAt, DateTimeOffset? reminderDueAt)
    {
        var id = ThreePL.Domain.Common.ConnectionId.New().Value;
        await table.AddEntityAsync(new Azure.Data.Tables.TableEntity($"pair|{threePl.Id}|{merchant.Id}", "pair") { ["ConnectionId"] = id, ["ClaimedAt"] = createdAt });
        foreach (var account in new[] { threePl.Id, merchant.Id })
        {
            await table.AddEntityAsync(new Azure.Data.Tables.TableEntity($"account|{account}", id) { ["CreatedAt"] = createdAt });
        }
        await table.AddEntityAsync(new Azure.Data.Tables.TableEntity(id, "connection")
        {
            ["ThreePlAccountId"] = threePl.Id,
            ["MerchantAccountId"] = merchant.Id,
            ["InvitedBy"] = "threepl",
            ["Status"] = "pending",
            ["CreatedAt"] = createdAt,
            ["UpdatedAt"] = createdAt,
            ["ExpiresAt"] = expiresAt,
            ["ReminderDueAt"] = reminderDueAt,
            ["Version"] = 1L,
            ["SettingsVersion"] = 1,
            ["ManageOrders"] = true,
            ["ShippingRules"] = "threepl",
            ["OrderFeeBilledTo"] = "merchant",
            ["SupportTickets"] = "threepl",
        });
        return id;
    }

    [Fact]
    public async Task Kill_9_while_workflows_wait_then_restart_fires_due_timers_and_follows_up_a_decision_made_while_down()
    {
        using var mail = new MailWatch(Path.Combine(_workingDirectory, "mail"));
        var prefix = TestApp.NewPrefix();
        var port = AppProcess.FreePort();
        var settings = ProcessSettings(prefix, mail.Directory, ttl: "00:00:30", reminder: "00:00:10");
        var app = await AppProcess.StartAsync(settings, port, _workingDirectory);
        string remindedId, approvedId;
        SeededAccount threePl;
        DateTimeOffset expiresAt;
        try
        {
            using var http = ApiContract.Client(app.BaseAddress);
            threePl = await AccountAsync(http, "threepl");
            var shopA = await AccountAsync(http, "merchant");
            var shopB = await AccountAsync(http, "merchant");
            var a = await ApiAssert.Json(await As(http, threePl).PostAsJsonAsync("/v1/connections", new { accountId = shopA.Id }), HttpStatusCode.Created);
            remindedId = a.GetProperty("id").GetString()!;
            expiresAt = a.GetProperty("expiresAt").GetDateTimeOffset();
            approvedId = (await ApiAssert.Json(await As(http, threePl).PostAsJsonAsync("/v1/connections", new { accountId = shopB.Id }), HttpStatusCode.Created)).GetProperty("id").GetString()!;
            await mail.WaitForAsync("inv_" + remindedId);
            await mail.WaitForAsync("inv_" + approvedId);
            using var admin = Admin(http);
            await WorkflowAsync(admin, remindedId, w => w.Step == "waiting_for_decision");
            await WorkflowAsync(admin, approvedId, w => w.Step == "waiting_for_decision");
            app.Kill();

            // While the app is dead: an HTTP-only instance takes the approval (its signal waits in the queue), and
            // the reminder's due time passes.
            using (var httpOnly = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:Hosting:Listeners"] = "false" }, prefix: prefix))
            using (var shop = httpOnly.WithKey(shopB.ApiKey))
            {
                var approved = await ApiAssert.Json(await shop.PostAsJsonAsync($"/v1/connections/{approvedId}/approve", new { confirm = true }), HttpStatusCode.OK);
                Assert.Equal("active", approved.GetProperty("status").GetString());
            }
            var remindAt = a.GetProperty("createdAt").GetDateTimeOffset() + TimeSpan.FromSeconds(10);
            if (remindAt + TimeSpan.FromSeconds(1) - DateTimeOffset.UtcNow is { Ticks: > 0 } untilDue)
            {
                await Task.Delay(untilDue);
            }
            Assert.Equal(0, mail.Sends("rem_" + remindedId));
            Assert.Equal(0, mail.Sends("out_" + approvedId));
        }
        finally
        {
            app.Dispose();
        }

        // Restarted with another configuration: the invitations already sent keep their own timers.
        var restartedSettings = ProcessSettings(prefix, mail.Directory, ttl: "14.00:00:00", reminder: "3.00:00:00");
        var restart = Stopwatch.StartNew();
        using var restarted = await AppProcess.StartAsync(restartedSettings, port, _workingDirectory);
        var upAfter = restart.Elapsed;
        await mail.WaitForAsync("out_" + approvedId);
        var approvalFollowedUp = restart.Elapsed;
        await mail.WaitForAsync("rem_" + remindedId);
        var reminderSent = restart.Elapsed;
        using var restartedHttp = ApiContract.Client(restarted.BaseAddress);
        using var restartedAdmin = Admin(restartedHttp);
        var expired = await WorkflowAsync(restartedAdmin, remindedId, w => w.RuntimeStatus == "completed", TimeSpan.FromSeconds(40));
        Assert.Equal("expired", expired.Output);
        using var tpl = As(restartedHttp, threePl);
        var row = await ApiAssert.Json(await tpl.GetAsync($"/v1/connections/{remindedId}"), HttpStatusCode.OK);
        Assert.Equal("expired", row.GetProperty("status").GetString());
        Assert.True(row.GetProperty("updatedAt").GetDateTimeOffset() >= expiresAt, "expired before its own expiresAt");
        Assert.Equal("active", (await WorkflowAsync(restartedAdmin, approvedId, w => w.RuntimeStatus == "completed")).Output);
        output.WriteLine($"restart: healthy after {upAfter.TotalMilliseconds:F0} ms; approval made while down followed up after {approvalFollowedUp.TotalMilliseconds:F0} ms; " +
            $"overdue reminder sent after {reminderSent.TotalMilliseconds:F0} ms (from process start)");

        await mail.WaitForAsync("out_" + remindedId);
        Assert.Equal(new Dictionary<string, int>
        {
            ["inv_" + remindedId] = 1, ["rem_" + remindedId] = 1, ["out_" + remindedId] = 1,
            ["inv_" + approvedId] = 1, ["out_" + approvedId] = 1,
        }, mail.All);
        Assert.Equal(threePl.Email, mail.Read("out_" + remindedId).To);
    }

    [Fact]
    public async Task Two_app_instances_on_one_task_hub_run_each_activity_once()
    {
        const int Connections = 16;
        // An Azurite of its own: late in a full run the shared one holds thousands of queue messages, and its clean-up
        // pauses (20-36 s, PLATFORM-NOTES) outlast the task hub's 30 s partition leases, so two workers keep losing and
        // retaking partitions. Twice a workflow stalled past 180 s there while this test passes in ~30 s on its own.
        var storage = new AzuriteFixture();
        await storage.InitializeAsync();
        try
        {
            await RunTwoInstancesAsync(storage, Connections);
        }
        finally
        {
            await storage.DisposeAsync();
        }
    }

    private async Task RunTwoInstancesAsync(AzuriteFixture storage, int connections)
    {
        using var mail = new MailWatch(Path.Combine(_workingDirectory, "mail"));
        var prefix = TestApp.NewPrefix();
        var settings = ProcessSettings(prefix, mail.Directory, ttl: "00:00:20", reminder: "00:00:05", storage);
        using var first = await AppProcess.StartAsync(settings, AppProcess.FreePort(), _workingDirectory);
        using var second = await AppProcess.StartAsync(settings, AppProcess.FreePort(), _workingDirectory);
        using var one = ApiContract.Client(first.BaseAddress);
        using var two = ApiContract.Client(second.BaseAddress);
        var threePl = await AccountAsync(one, "threepl");
        var shops = await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => AccountAsync(one, "merchant")));
        var ids = await Task.WhenAll(shops.Select(async (shop, i) =>
            (await ApiAssert.Json(await As(i % 2 == 0 ? one : two, threePl).PostAsJsonAsync("/v1/connections", new { accountId = shop.Id }), HttpStatusCode.Created))
                .GetProperty("id").GetString()!));
        // Half are approved at once, through either instance; the rest expire.
        await Task.WhenAll(ids.Select(async (id, i) =>
        {
            if (i % 2 == 0)
            {
                await ApiAssert.Json(await As(i % 4 == 0 ? two : one, shops[i]).PostAsJsonAsync($"/v1/connections/{id}/approve", new { confirm = true }), HttpStatusCode.OK);
            }
        }));

        using var admin = Admin(two);
        foreach (var (id, i) in ids.Select((id, i) => (id, i)))
        {
            // A second worker joining takes over half the partitions, which holds their messages back for a while:
            // 5-6 s here; the deadline leaves room for a loaded machine.
            var done = await WorkflowAsync(admin, id, w => w.RuntimeStatus == "completed", TimeSpan.FromSeconds(180));
            Assert.Equal(i % 2 == 0 ? "active" : "expired", done.Output);
        }
        foreach (var (id, i) in ids.Select((id, i) => (id, i)))
        {
            await mail.WaitForAsync("out_" + id);
            Assert.Equal(1, mail.Sends("out_" + id));
            // An invitation answered before its workflow sent it is not sent; on a loaded machine an approval can come
            // after the 5 s reminder, and a reminder timer held back past the expiry is rightly not sent. Nothing is
            // ever sent twice.
            Assert.InRange(mail.Sends("inv_" + id), i % 2 == 0 ? 0 : 1, 1);
            Assert.InRange(mail.Sends("rem_" + id), 0, 1);
        }
        Assert.All(mail.All, m => Assert.Equal(1, m.Value));
        Assert.False(first.HasExited || second.HasExited);

        // The e-mail log would hide a second run of an activity; each activity's own log line does not.
        var runs = ActivityRuns(first).Select(r => (Instance: 1, Run: r)).Concat(ActivityRuns(second).Select(r => (Instance: 2, Run: r))).ToList();
        output.WriteLine($"activity runs: {runs.Count(r => r.Instance == 1)} on the first instance, {runs.Count(r => r.Instance == 2)} on the second");
        Assert.Contains(runs, r => r.Instance == 1);
        Assert.Contains(runs, r => r.Instance == 2);
        foreach (var (id, i) in ids.Select((id, i) => (id, i)))
        {
            var mine = runs.Where(r => r.Run.ConnectionId == id).Select(r => r.Run).ToList();
            // The one step the workflow may legitimately run again: an expiry whose timer fired a moment early finds the
            // invitation not yet due (still pending) and is scheduled once more a second later.
            var repeats = mine.Where(r => !(r.Activity == "ExpireInvitation" && r.Status == "pending"))
                .GroupBy(r => r).Where(g => g.Count() > 1).Select(g => $"{g.Key} x{g.Count()}").ToList();
            Assert.True(repeats.Count == 0, $"{id} ran activities more than once: {string.Join(", ", repeats)}");
            Assert.Equal(1, mine.Count(r => r.Activity == "SendInvitation"));
            if (i % 2 == 0)
            {
                Assert.Equal(1, mine.Count(r => r.Activity == "FollowUpDecision" && r.Status == "active"));
                Assert.Equal(0, mine.Count(r => r.Activity == "ExpireInvitation"));
            }
            else
            {
                Assert.Equal(1, mine.Count(r => r.Activity == "SendInvitationReminder"));
                Assert.Equal(1, mine.Count(r => r.Activity == "ExpireInvitation" && r.Status == "expired"));
                Assert.Equal(1, mine.Count(r => r.Activity == "FollowUpDecision" && r.Status == "expired"));
            }
        }
    }

    private static readonly Regex ActivityLine = new(@"Workflow activity (?<activity>\w+) ran for connection (?<id>con_\w+), which is (?<status>\w+)", RegexOptions.CultureInvariant);

    private sealed record ActivityRun(string Activity, string ConnectionId, string Status);

    private static IEnumerable<ActivityRun> ActivityRuns(AppProcess app) =>
        app.Output.Select(line => ActivityLine.Match(line)).Where(m => m.Success)
            .Select(m => new ActivityRun(m.Groups["activity"].Value, m.Groups["id"].Value, m.Groups["status"].Value));

    private Dictionary<string, string> ProcessSettings(string prefix, string mailDirectory, string ttl, string reminder, AzuriteFixture? storage = null) => new()
    {
        ["AzureWebJobsStorage"] = (storage ?? azurite).ConnectionString,
        ["ThreePL:Storage:Prefix"] = prefix,
        [TestApp.HubNameSetting] = TestApp.HubName(prefix),
        ["AzureFunctionsJobHost:extensions:durableTask:storageProvider:maxQueuePollingInterval"] = "00:00:00.500",
        ["AzureFunctionsJobHost:extensions:queues:maxPollingInterval"] = "00:00:00.200",
        ["AzureFunctionsJobHost:extensions:queues:visibilityTimeout"] = "00:00:00",
        ["ThreePL:AdminKey"] = TestApp.AdminKey,
        ["ThreePL:SigningKey"] = "test-signing-key-0123456789abcdef0123456789",
        ["ThreePL:Email:PickupDirectory"] = mailDirectory,
        ["ThreePL:InvitationTtl"] = ttl,
        ["ThreePL:InvitationReminderAfter"] = reminder,
        // The activities' one line each, which the two-instance test reads from both processes.
        ["Logging:LogLevel:ThreePL.Functions.Connections.ConnectionWorkflowActivities"] = "Information",
    };

    private static async Task<SeededAccount> AccountAsync(HttpClient http, string kind)
    {
        var email = $"{Guid.NewGuid():N}@example.com";
        using var admin = Admin(http);
        var json = await ApiAssert.Json(await admin.PostAsJsonAsync("/v1/admin/accounts", new { kind, name = $"Test {kind}", email }), HttpStatusCode.Created);
        return new SeededAccount(json.GetProperty("id").GetString()!, kind, email, json.GetProperty("apiKey").GetString()!);
    }

    private static HttpClient Admin(HttpClient http) => With(http, TestApp.AdminKey);

    private static HttpClient As(HttpClient http, SeededAccount account) => With(http, account.ApiKey);

    private static HttpClient With(HttpClient http, string key)
    {
        var client = ApiContract.Client(http.BaseAddress!, TimeSpan.FromSeconds(30));
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private static Task<Workflow> WorkflowAsync(HttpClient admin, string id, Func<Workflow, bool> until, TimeSpan? timeout = null) =>
        Eventually.Get(async () =>
        {
            var response = await admin.GetAsync($"/v1/admin/connections/{id}/workflow");
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }
            var json = await ApiAssert.Json(response, HttpStatusCode.OK);
            var workflow = new Workflow(
                json.GetProperty("runtimeStatus").GetString()!,
                json.GetProperty("step").GetString(),
                json.GetProperty("nextTimerAt").ValueKind == JsonValueKind.Null ? null : json.GetProperty("nextTimerAt").GetDateTimeOffset(),
                json.GetProperty("output").GetString());
            return until(workflow) ? workflow : null;
        }, $"the workflow of {id}", timeout ?? TimeSpan.FromSeconds(30));

    private sealed record Workflow(string RuntimeStatus, string? Step, DateTimeOffset? NextTimerAt, string? Output);
}
