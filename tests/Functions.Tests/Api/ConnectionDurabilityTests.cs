using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Azure.Storage.Queues;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Email;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Api;

/// <summary>
/// Crashes and races around connection commands and their messages; the workflow's timers and restarts are in
/// <see cref="Workflows.ConnectionWorkflowIntegrationTests"/>.
/// </summary>
[Collection("azurite")]
public sealed class ConnectionDurabilityTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_crash_between_commit_and_enqueue_still_sends_the_invitation_once_after_restart()
    {
        var sends = new ConcurrentBag<string>();
        string prefix;
        SeededAccount merchant;
        string id;
        using (var crashing = new TestApp(azurite,
            new Dictionary<string, string?> { ["ThreePL:Hosting:Listeners"] = "false" },
            TestApp.DiesAfterEachCommit(TimeSpan.FromSeconds(2), services => services.AddSingleton<IEmailSender>(new RecordingSender(sends)))))
        {
            prefix = crashing.Prefix;
            var threePl = await Seed.AccountAsync(crashing, "threepl");
            merchant = await Seed.AccountAsync(crashing, "merchant");
            id = await Connect.InviteAsync(crashing, threePl, new { email = merchant.Email });
        }
        Assert.Empty(sends);

        using var restarted = new TestApp(azurite, services: services => services.AddSingleton<IEmailSender>(new RecordingSender(sends)), prefix: prefix);
        _ = restarted.Services;
        await Eventually.True(() => Task.FromResult(sends.Count == 1), "the invitation after restart");

        // The safety net and a second re-drive of the same partition must not mail again.
        var outbox = restarted.Services.GetRequiredService<Outbox>();
        await outbox.RelayPendingAsync("connections", id, CancellationToken.None);
        var events = restarted.Services.GetRequiredService<QueueServiceClient>().GetQueueClient(prefix + EventEnvelope.Queue);
        await Eventually.True(async () => await events.ApproximateCountAsync() == 0, "the events queue to drain");
        Assert.Single(sends);
        Assert.Equal("inv_" + id, sends.Single());
    }

    [Fact]
    public async Task The_same_invitation_relayed_twice_starts_one_workflow_and_mails_once()
    {
        var sends = new ConcurrentBag<string>();
        using var app = new TestApp(azurite,
            services: TestApp.DiesAfterEachCommit(TimeSpan.FromHours(1), services => services.AddSingleton<IEmailSender>(new RecordingSender(sends))));
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var id = await Connect.InviteAsync(app, threePl, new { email = merchant.Email });
        var outbox = app.Services.GetRequiredService<Outbox>();

        // Two relays racing over the same rows is what a crash between "send" and "delete row" leads to.
        await Task.WhenAll(outbox.RelayPendingAsync("connections", id, CancellationToken.None), outbox.RelayPendingAsync("connections", id, CancellationToken.None));

        await Eventually.True(() => Task.FromResult(sends.Count >= 1), "the invitation");
        var signals = app.Services.GetRequiredService<QueueServiceClient>().GetQueueClient(app.Prefix + ConnectionMessages.WorkflowQueue);
        await Eventually.True(async () => await signals.ApproximateCountAsync() == 0, "both start signals to be consumed", TimeSpan.FromSeconds(60));
        Assert.Equal(["inv_" + id], sends);

        // The one workflow hears the approval and follows it up once.
        using var shop = app.WithKey(merchant.ApiKey);
        await ApiAssert.Json(await shop.PostAsJsonAsync($"/v1/connections/{id}/approve", new { confirm = true }), HttpStatusCode.OK);
        await outbox.RelayPendingAsync("connections", id, CancellationToken.None);
        var workflows = app.Services.GetRequiredService<DurableTaskClient>();
        await Eventually.True(async () => (await workflows.GetInstanceAsync(id))?.RuntimeStatus == OrchestrationRuntimeStatus.Completed, "the workflow to complete");
        await Eventually.True(() => Task.FromResult(sends.Count == 2), "the approval's follow-up");
        Assert.Equal(["inv_" + id, "out_" + id], sends.Order());
    }

    [Fact]
    public async Task Concurrent_approve_and_cancel_pairs_end_in_exactly_one_outcome_each()
    {
        using var app = new TestApp(azurite);
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchants = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => Seed.AccountAsync(app, "merchant")));
        var ids = await Task.WhenAll(merchants.Select(m => Connect.InviteAsync(app, threePl, new { accountId = m.Id })));
        using var tpl = app.WithKey(threePl.ApiKey);

        var outcomes = await Task.WhenAll(ids.Select(async (id, i) =>
        {
            using var shop = app.WithKey(merchants[i].ApiKey);
            var approve = shop.PostAsJsonAsync($"/v1/connections/{id}/approve", new { confirm = true });
            var cancel = tpl.PostAsync($"/v1/connections/{id}/cancel", null);
            var (a, c) = (await approve, await cancel);
            var final = (await ApiAssert.Json(await shop.GetAsync($"/v1/connections/{id}"), HttpStatusCode.OK)).GetProperty("status").GetString();
            return (Approve: a.StatusCode, Cancel: c.StatusCode, Final: final);
        }));

        foreach (var (approve, cancel, final) in outcomes)
        {
            Assert.True((approve == HttpStatusCode.OK) ^ (cancel == HttpStatusCode.OK), $"approve {approve}, cancel {cancel}");
            Assert.Equal(approve == HttpStatusCode.OK ? "active" : "cancelled", final);
            Assert.Equal(HttpStatusCode.Conflict, approve == HttpStatusCode.OK ? cancel : approve);
        }
    }

    [Fact]
    public async Task Fifty_concurrent_invitations_for_one_pair_create_one_connection()
    {
        using var app = new TestApp(azurite);
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        using var tpl = app.WithKey(threePl.ApiKey);
        using var shop = app.WithKey(merchant.ApiKey);

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => i % 2 == 0
            ? tpl.PostAsJsonAsync("/v1/connections", new { accountId = merchant.Id })
            : shop.PostAsJsonAsync("/v1/connections", new { accountId = threePl.Id })));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(49, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        var list = await ApiAssert.Json(await tpl.GetAsync("/v1/connections"), HttpStatusCode.OK);
        Assert.Equal(1, list.GetProperty("items").GetArrayLength());
    }

    private sealed class RecordingSender(ConcurrentBag<string> sends) : IEmailSender
    {
        public Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
        {
            sends.Add(message.Id);
            return Task.CompletedTask;
        }
    }
}
