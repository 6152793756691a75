using Microsoft.DurableTask;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Audit;

namespace ThreePL.Functions.Connections;

/// <summary>What a workflow step saw on the connection row, the source of truth, when it ran.</summary>
public sealed record InvitationState(string Status, DateTimeOffset ExpiresAt, DateTimeOffset? RemindAt)
{
    public bool IsPending => Status == ConnectionStatusNames.ToWire(ConnectionStatus.Pending);

    public static InvitationState Of(Connection connection) =>
        new(ConnectionStatusNames.ToWire(connection.Status), connection.ExpiresAt, connection.RemindAt);
}

/// <summary>The custom status operators read: the step the workflow is in and when its next timer fires.</summary>
public sealed record WorkflowProgress(string Step, DateTimeOffset? NextTimerAt)
{
    public const string WaitingForDecision = "waiting_for_decision";
    public const string ReminderSent = "reminder_sent";
    public const string FollowingUp = "following_up";
    public const string Finished = "finished";
}

/// <summary>
/// The connection workflow, one Durable orchestration per connection (instance id = connection id), in the
/// "human interaction" pattern: send the invitation, wait for the decision or the reminder timer, remind, wait for
/// the decision or the expiry timer, expire, then follow the outcome up. Decisions themselves commit synchronously
/// in the HTTP functions; the workflow only hears about them (event <see cref="DecidedEvent"/>) and every activity
/// reads the connection row again, so a lost or late signal can delay a follow-up but never make it wrong, and a
/// <c>decided</c> for a connection the row says is still pending changes nothing.
/// </summary>
/// <remarks>
/// Deterministic by construction: no I/O, no clock but <see cref="TaskOrchestrationContext.CurrentUtcDateTime"/>,
/// and the timers come from the invitation's own <c>expiresAt</c> and <c>remindAt</c> (returned by the first
/// activity and so recorded in the history), never from configuration.
/// </remarks>
public static class ConnectionWorkflow
{
    public const string Name = nameof(ConnectionWorkflow);
    public const string DecidedEvent = "decided";
    public const string SendInvitation = "SendInvitation";
    public const string SendReminder = "SendInvitationReminder";
    public const string ExpireInvitation = "ExpireInvitation";
    public const string FollowUpDecision = "FollowUpDecision";

    /// <summary>A timer may fire up to a second early; an expiry that came too soon waits this long and tries again.</summary>
    public static readonly TimeSpan EarlyTimerRetry = TimeSpan.FromSeconds(1);

    /// <summary>Storage and SMTP hiccups are retried with backoff instead of failing the workflow.</summary>
    public static readonly TaskOptions ActivityRetry = TaskOptions.FromRetryPolicy(new RetryPolicy(
        maxNumberOfAttempts: 8, firstRetryInterval: TimeSpan.FromSeconds(2), backoffCoefficient: 2, maxRetryInterval: TimeSpan.FromMinutes(5)));

    [Function(Name)]
    public static async Task<string> RunAsync([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var id = context.InstanceId;
        var state = await context.CallActivityAsync<InvitationState>(SendInvitation, id, ActivityRetry);
        var remindAt = state.RemindAt;
        var followedUp = false;
        while (state.IsPending)
        {
            var reminding = remindAt is not null;
            var due = remindAt ?? state.ExpiresAt;
            var step = reminding || state.RemindAt is null ? WorkflowProgress.WaitingForDecision : WorkflowProgress.ReminderSent;
            if (await WaitForDecisionAsync(context, due, step))
            {
                state = await context.CallActivityAsync<InvitationState>(FollowUpDecision, id, ActivityRetry);
                followedUp = !state.IsPending;
            }
            else if (reminding)
            {
                state = await context.CallActivityAsync<InvitationState>(SendReminder, id, ActivityRetry);
                remindAt = null;
            }
            else
            {
                state = await context.CallActivityAsync<InvitationState>(ExpireInvitation, id, ActivityRetry);
                if (state.IsPending)
                {
                    // The timer fired a moment before expiresAt and the domain said "not due": wait a little more.
                    state = state with { ExpiresAt = Later(context.CurrentUtcDateTime + EarlyTimerRetry, state.ExpiresAt) };
                }
            }
        }
        if (!followedUp)
        {
            context.SetCustomStatus(new WorkflowProgress(WorkflowProgress.FollowingUp, null));
            state = await context.CallActivityAsync<InvitationState>(FollowUpDecision, id, ActivityRetry);
        }
        context.SetCustomStatus(new WorkflowProgress(WorkflowProgress.Finished, null));
        return state.Status;
    }

    /// <summary>True when <see cref="DecidedEvent"/> arrived before <paramref name="fireAt"/>, false when the timer fired.</summary>
    private static async Task<bool> WaitForDecisionAsync(TaskOrchestrationContext context, DateTimeOffset fireAt, string step)
    {
        context.SetCustomStatus(new WorkflowProgress(step, fireAt));
        using var cancel = new CancellationTokenSource();
        var decided = context.WaitForExternalEvent<object?>(DecidedEvent, cancel.Token);
        var timer = context.CreateTimer(fireAt.UtcDateTime, cancel.Token);
        var first = await Task.WhenAny(decided, timer);
        // Cancelling the loser is what lets the orchestration complete instead of waiting on a forgotten timer.
        cancel.Cancel();
        return first == decided;
    }

    private static DateTimeOffset Later(DateTime a, DateTimeOffset b) => a > b.UtcDateTime ? new DateTimeOffset(a, TimeSpan.Zero) : b;
}

/// <summary>
/// The workflow's activities. Each one reads the connection row and acts on what it says, so each is idempotent:
/// e-mails go through <see cref="Email.ConnectionMailer"/> (claimed once per connection and kind in the e-mail
/// log), and the expiry is a domain transition under the row's ETag (an expiry racing an approval ends with
/// exactly one of them). Each logs one line when it has done its work, naming itself, the connection and the status
/// it saw, so an operator (and the two-instance test) can see which instance ran which step and that none ran twice.
/// </summary>
public sealed class ConnectionWorkflowActivities(
    ConnectionStore store, ConnectionCommands commands, Email.ConnectionMailer mailer, TimeProvider time, ILogger<ConnectionWorkflowActivities> logger)
{
    [Function(ConnectionWorkflow.SendInvitation)]
    public async Task<InvitationState> SendInvitationAsync([ActivityTrigger] string connectionId, CancellationToken cancellationToken)
    {
        var connection = await ReadAsync(connectionId, cancellationToken).ConfigureAwait(false);
        if (connection.Status == ConnectionStatus.Pending)
        {
            await mailer.SendInvitationAsync(connection, reminder: false, cancellationToken).ConfigureAwait(false);
        }
        return Ran(ConnectionWorkflow.SendInvitation, connection);
    }

    [Function(ConnectionWorkflow.SendReminder)]
    public async Task<InvitationState> SendReminderAsync([ActivityTrigger] string connectionId, CancellationToken cancellationToken)
    {
        var connection = await ReadAsync(connectionId, cancellationToken).ConfigureAwait(false);
        if (connection.Status == ConnectionStatus.Pending && time.GetUtcNow() < connection.ExpiresAt)
        {
            await mailer.SendInvitationAsync(connection, reminder: true, cancellationToken).ConfigureAwait(false);
        }
        return Ran(ConnectionWorkflow.SendReminder, connection);
    }

    [Function(ConnectionWorkflow.ExpireInvitation)]
    public async Task<InvitationState> ExpireInvitationAsync([ActivityTrigger] string connectionId, CancellationToken cancellationToken)
    {
        var result = await commands.TransitionAsync(ConnectionId.Parse(connectionId), AuditActor.System, (c, now) => c.Expire(now), cancellationToken).ConfigureAwait(false);
        var connection = result.Connection?.Connection ?? throw MissingConnection(connectionId);
        return Ran(ConnectionWorkflow.ExpireInvitation, connection);
    }

    [Function(ConnectionWorkflow.FollowUpDecision)]
    public async Task<InvitationState> FollowUpDecisionAsync([ActivityTrigger] string connectionId, CancellationToken cancellationToken)
    {
        var connection = await ReadAsync(connectionId, cancellationToken).ConfigureAwait(false);
        if (connection.Status != ConnectionStatus.Pending)
        {
            await mailer.SendOutcomeAsync(connection, cancellationToken).ConfigureAwait(false);
        }
        return Ran(ConnectionWorkflow.FollowUpDecision, connection);
    }

    private InvitationState Ran(string activity, Connection connection)
    {
        var state = InvitationState.Of(connection);
        logger.LogInformation("Workflow activity {Activity} ran for connection {ConnectionId}, which is {Status}", activity, connection.Id.Value, state.Status);
        return state;
    }

    private async Task<Connection> ReadAsync(string connectionId, CancellationToken cancellationToken) =>
        (await store.GetAsync(ConnectionId.Parse(connectionId), cancellationToken).ConfigureAwait(false))?.Connection
        ?? throw MissingConnection(connectionId);

    /// <summary>The workflow starts only after its connection committed, so a missing row is a bug, not a race.</summary>
    private static InvalidOperationException MissingConnection(string connectionId) =>
        new($"The workflow of connection {connectionId} found no connection row.");
}
