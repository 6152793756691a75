using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Workflows;

/// <summary>
/// Every branch of <see cref="ConnectionWorkflow"/> on the in-memory Durable test host, with activities that act on
/// a connection row held in memory the way the real ones act on the table row. Timers run in real time, so the
/// invitations here remind after about a second and expire after about three.
/// </summary>
public sealed class ConnectionWorkflowTests
{
    private static readonly TimeSpan RemindAfter = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ExpireAfter = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Decided_before_the_reminder_follows_up_at_once_and_never_reminds()
    {
        var row = FakeConnection.Pending(RemindAfter + TimeSpan.FromSeconds(30), ExpireAfter + TimeSpan.FromSeconds(60));
        await using var host = await StartAsync(row);
        await StartWorkflowAsync(host, row);
        var waiting = await WaitForStepAsync(host, row, WorkflowProgress.WaitingForDecision);
        Assert.Equal(row.RemindAt, waiting.NextTimerAt);

        row.Decide("active");
        await host.Client.RaiseEventAsync(row.Id, ConnectionWorkflow.DecidedEvent);
        var done = await CompletedAsync(host, row);

        Assert.Equal("active", done.ReadOutputAs<string>());
        Assert.Equal(["SendInvitation", "FollowUpDecision"], row.Calls);
        Assert.Equal(1, row.Invitations);
        Assert.Equal(0, row.Reminders);
        Assert.Equal(1, row.FollowUps);
    }

    [Fact]
    public async Task Decided_after_the_reminder_reminds_once_then_follows_up()
    {
        var row = FakeConnection.Pending(RemindAfter, ExpireAfter + TimeSpan.FromSeconds(60));
        await using var host = await StartAsync(row);
        await StartWorkflowAsync(host, row);
        var reminded = await WaitForStepAsync(host, row, WorkflowProgress.ReminderSent);
        Assert.Equal(row.ExpiresAt, reminded.NextTimerAt);

        row.Decide("declined");
        await host.Client.RaiseEventAsync(row.Id, ConnectionWorkflow.DecidedEvent);
        var done = await CompletedAsync(host, row);

        Assert.Equal("declined", done.ReadOutputAs<string>());
        Assert.Equal(["SendInvitation", "SendInvitationReminder", "FollowUpDecision"], row.Calls);
        Assert.Equal(1, row.Reminders);
        Assert.Equal(1, row.FollowUps);
    }

    [Fact]
    public async Task Never_decided_reminds_once_expires_by_its_timer_and_follows_up()
    {
        var row = FakeConnection.Pending(RemindAfter, ExpireAfter);
        await using var host = await StartAsync(row);
        await StartWorkflowAsync(host, row);

        var done = await CompletedAsync(host, row);

        Assert.Equal("expired", done.ReadOutputAs<string>());
        Assert.Equal(["SendInvitation", "SendInvitationReminder", "ExpireInvitation", "FollowUpDecision"], row.Calls.Where(c => c != "ExpireInvitation:not_due"));
        Assert.True(row.ExpiredAt >= row.ExpiresAt, "expired before its time");
        Assert.Equal(1, row.Reminders);
        Assert.Equal(1, row.FollowUps);
        Assert.Equal(WorkflowProgress.Finished, Progress(done)!.Step);
    }

    [Fact]
    public async Task An_expiry_timer_that_fires_early_waits_and_expires_on_time()
    {
        var row = FakeConnection.Pending(null, TimeSpan.FromSeconds(2));
        row.EarlyExpiries = 1;
        await using var host = await StartAsync(row);
        await StartWorkflowAsync(host, row);

        var done = await CompletedAsync(host, row);

        Assert.Equal("expired", done.ReadOutputAs<string>());
        Assert.Equal(["SendInvitation", "ExpireInvitation:not_due", "ExpireInvitation", "FollowUpDecision"], row.Calls);
    }

    [Fact]
    public async Task Decided_and_expired_at_once_ends_with_the_one_outcome_the_row_kept()
    {
        // The approval commits just as the expiry timer fires: the expiry activity loses the ETag race (the domain
        // refuses to expire an active connection) and the decided event arrives while it runs.
        var row = FakeConnection.Pending(null, TimeSpan.FromSeconds(2));
        row.BeforeExpire = () => row.Decide("active");
        await using var host = await StartAsync(row);
        await StartWorkflowAsync(host, row);
        await Eventually.True(() => Task.FromResult(row.Calls.Contains("ExpireInvitation")), "the expiry timer", Deadline);
        await host.Client.RaiseEventAsync(row.Id, ConnectionWorkflow.DecidedEvent);

        var done = await CompletedAsync(host, row);

        Assert.Equal("active", done.ReadOutputAs<string>());
        Assert.Equal("active", row.Status);
        Assert.Null(row.ExpiredAt);
        Assert.Equal(["SendInvitation", "ExpireInvitation", "FollowUpDecision"], row.Calls);
        Assert.Equal(1, row.FollowUps);
    }

    [Fact]
    public async Task A_decided_event_for_a_connection_already_decided_is_followed_up_once()
    {
        // The invitation was answered before the workflow sent it (its start signal came late): nothing is mailed,
        // the outcome is followed up once, and the decided events that arrive afterwards change nothing.
        var row = FakeConnection.Pending(RemindAfter, ExpireAfter);
        row.Decide("cancelled");
        await using var host = await StartAsync(row);
        await StartWorkflowAsync(host, row);
        var done = await CompletedAsync(host, row);
        await host.Client.RaiseEventAsync(row.Id, ConnectionWorkflow.DecidedEvent);
        await host.Client.RaiseEventAsync(row.Id, ConnectionWorkflow.DecidedEvent);
        await Task.Delay(RemindAfter);

        Assert.Equal("cancelled", done.ReadOutputAs<string>());
        Assert.Equal(["SendInvitation", "FollowUpDecision"], row.Calls);
        Assert.Equal(0, row.Invitations);
        Assert.Equal(1, row.FollowUps);
    }

    [Fact]
    public async Task A_decided_event_the_row_does_not_confirm_keeps_the_workflow_waiting()
    {
        var row = FakeConnection.Pending(RemindAfter, ExpireAfter);
        await using var host = await StartAsync(row);
        await StartWorkflowAsync(host, row);
        // Waiting for the decision, before or after the reminder: the reminder is due after a second, which a loaded
        // machine may take before the first poll sees the earlier step.
        await WaitForStepAsync(host, row, WorkflowProgress.WaitingForDecision, WorkflowProgress.ReminderSent);
        await host.Client.RaiseEventAsync(row.Id, ConnectionWorkflow.DecidedEvent);

        var done = await CompletedAsync(host, row);

        Assert.Equal("expired", done.ReadOutputAs<string>());
        Assert.Equal(1, row.Reminders);
        Assert.Equal(2, row.FollowUpCalls);
        Assert.Equal(1, row.FollowUps);
    }

    [Fact]
    public async Task A_lost_decided_signal_is_repaired_by_the_next_timer()
    {
        var row = FakeConnection.Pending(RemindAfter, ExpireAfter + TimeSpan.FromSeconds(60));
        await using var host = await StartAsync(row);
        await StartWorkflowAsync(host, row);
        await WaitForStepAsync(host, row, WorkflowProgress.WaitingForDecision);
        row.Decide("active");

        var done = await CompletedAsync(host, row);

        Assert.Equal("active", done.ReadOutputAs<string>());
        Assert.Equal(["SendInvitation", "SendInvitationReminder", "FollowUpDecision"], row.Calls);
        Assert.Equal(0, row.Reminders);
        Assert.Equal(1, row.FollowUps);
    }

    private static async Task<DurableTaskTestHost> StartAsync(FakeConnection row) =>
        await DurableTaskTestHost.StartAsync(registry =>
        {
            registry.AddOrchestratorFunc(ConnectionWorkflow.Name, ConnectionWorkflow.RunAsync);
            registry.AddActivityFunc<string, InvitationState>(ConnectionWorkflow.SendInvitation, (_, _) => row.SendInvitation());
            registry.AddActivityFunc<string, InvitationState>(ConnectionWorkflow.SendReminder, (_, _) => row.SendReminder());
            registry.AddActivityFunc<string, InvitationState>(ConnectionWorkflow.ExpireInvitation, (_, _) => row.Expire());
            registry.AddActivityFunc<string, InvitationState>(ConnectionWorkflow.FollowUpDecision, (_, _) => row.FollowUp());
        }, new DurableTaskTestHostOptions { Port = AppProcess.FreePort() });

    private static Task StartWorkflowAsync(DurableTaskTestHost host, FakeConnection row) =>
        host.Client.ScheduleNewOrchestrationInstanceAsync(ConnectionWorkflow.Name, new StartOrchestrationOptions(row.Id));

    private static async Task<OrchestrationMetadata> CompletedAsync(DurableTaskTestHost host, FakeConnection row)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        var done = await host.Client.WaitForInstanceCompletionAsync(row.Id, getInputsAndOutputs: true, timeout.Token);
        Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, $"{done.RuntimeStatus}: {done.FailureDetails?.ErrorMessage}");
        return done;
    }

    private static Task<WorkflowProgress> WaitForStepAsync(DurableTaskTestHost host, FakeConnection row, params string[] steps) =>
        Eventually.Get(async () => Progress(await host.Client.GetInstanceAsync(row.Id, getInputsAndOutputs: true)) is { } p && steps.Contains(p.Step) ? p : null,
            $"workflow step {string.Join(" or ", steps)}", Deadline);

    private static WorkflowProgress? Progress(OrchestrationMetadata? instance) =>
        instance?.SerializedCustomStatus is { } status ? JsonSerializer.Deserialize<WorkflowProgress>(status, Messaging.EventEnvelope.Json) : null;

    /// <summary>A connection row and the effects the real activities have on it: mails, the expiry, the follow-up.</summary>
    private sealed class FakeConnection
    {
        private readonly Lock _gate = new();

        public string Id { get; } = "con_" + Guid.NewGuid().ToString("N")[..20];
        public string Status { get; private set; } = "pending";
        public DateTimeOffset ExpiresAt { get; private init; }
        public DateTimeOffset? RemindAt { get; private init; }
        public DateTimeOffset? ExpiredAt { get; private set; }
        public List<string> Calls { get; } = [];
        public int Invitations { get; private set; }
        public int Reminders { get; private set; }
        public int FollowUps { get; private set; }
        public int FollowUpCalls { get; private set; }
        public int EarlyExpiries { get; set; }
        public Action? BeforeExpire { get; set; }

        public static FakeConnection Pending(TimeSpan? remindAfter, TimeSpan expireAfter)
        {
            var now = DateTimeOffset.UtcNow;
            return new FakeConnection { RemindAt = now + remindAfter, ExpiresAt = now + expireAfter };
        }

        public void Decide(string status)
        {
            lock (_gate)
            {
                if (Status == "pending")
                {
                    Status = status;
                }
            }
        }

        public InvitationState SendInvitation() => Record(ConnectionWorkflow.SendInvitation, () => Invitations += Status == "pending" ? 1 : 0);

        public InvitationState SendReminder() => Record(ConnectionWorkflow.SendReminder, () => Reminders += Status == "pending" ? 1 : 0);

        public InvitationState FollowUp() => Record(ConnectionWorkflow.FollowUpDecision, () =>
        {
            FollowUpCalls++;
            FollowUps += Status == "pending" ? 0 : 1;
        });

        public InvitationState Expire()
        {
            BeforeExpire?.Invoke();
            lock (_gate)
            {
                if (Status == "pending" && (EarlyExpiries > 0 || DateTimeOffset.UtcNow < ExpiresAt))
                {
                    // What the domain answers when a timer fires a moment before expiresAt: not due yet.
                    EarlyExpiries = Math.Max(0, EarlyExpiries - 1);
                    Calls.Add(ConnectionWorkflow.ExpireInvitation + ":not_due");
                    return State();
                }
            }
            return Record(ConnectionWorkflow.ExpireInvitation, () =>
            {
                if (Status == "pending")
                {
                    Status = "expired";
                    ExpiredAt = DateTimeOffset.UtcNow;
                }
            });
        }

        private InvitationState Record(string activity, Action effect)
        {
            lock (_gate)
            {
                Calls.Add(activity);
                effect();
                return State();
            }
        }

        private InvitationState State() => new(Status, ExpiresAt, RemindAt);
    }
}
