using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask.Client;
using ThreePL.Domain.Common;
using ThreePL.Functions.Email;
using ThreePL.Functions.Http;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Connections;

public sealed record ResumeConnectionWorkflowsResponse(int Examined, int Started, int AlreadyStarted, int SkippedRecent, string? NextCursor);

/// <summary>
/// The upgrade step for invitations made before the connection workflow was a Durable orchestration. Those were driven
/// by delayed <c>connection-timers</c> messages that nothing reads any more, and have no workflow: left alone they
/// never expire and their pair stays taken. This starts the workflow of every pending connection that has none, a page
/// at a time (idempotent by instance id, so running it again starts nothing). The workflow then reminds and expires
/// them from the row's own times: <c>remindAt</c>, read from the old <c>ReminderDueAt</c> (see
/// <see cref="ConnectionStore.FromEntity"/>), and <c>expiresAt</c>; a time already past fires at once.
/// </summary>
/// <remarks>
/// The old engine mailed the invitation as soon as it committed, under its event's id, so the invitation is recorded
/// as sent under the workflow's id before the start and goes out no second time. A pending connection younger than
/// <see cref="InFlightAge"/> is skipped: it was made by this version and its own start signal (which does mail it) may
/// still be on its way through the outbox.
/// </remarks>
public sealed class ResumeConnectionWorkflows(ConnectionStore store, ConnectionMailer mailer, TimeProvider time, ILogger<ResumeConnectionWorkflows> logger)
{
    /// <summary>Far longer than the outbox safety net (30 s) and the signal queue's retries take to start a workflow.</summary>
    public static readonly TimeSpan InFlightAge = TimeSpan.FromMinutes(10);

    public async Task<Results<Ok<ResumeConnectionWorkflowsResponse>, ProblemHttpResult>> HandleAsync(
        string? cursor, int? limit, DurableTaskClient client, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var pageSize = Paging.Limit(limit, errors);
        ConnectionId? after = null;
        if (Paging.Cursor(cursor, errors) is { } given && errors.IsEmpty)
        {
            if (ConnectionId.TryParse(TableClientExtensions.DecodePosition(given), out var id))
            {
                after = id;
            }
            else
            {
                errors.Add("cursor", "Not a cursor from this API.");
            }
        }
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var (pending, more) = await store.ListPendingAsync(after, pageSize, cancellationToken).ConfigureAwait(false);
        int started = 0, alreadyStarted = 0, skippedRecent = 0;
        var now = time.GetUtcNow();
        foreach (var stored in pending)
        {
            var connection = stored.Connection;
            if (await client.GetInstanceAsync(connection.Id.Value, cancellationToken).ConfigureAwait(false) is not null)
            {
                alreadyStarted++;
                continue;
            }
            if (now - connection.CreatedAt < InFlightAge)
            {
                skippedRecent++;
                continue;
            }
            await mailer.RecordInvitationSentBeforeWorkflowAsync(connection, cancellationToken).ConfigureAwait(false);
            if (await SignalConnectionWorkflow.StartOnceAsync(connection.Id.Value, client, logger, cancellationToken).ConfigureAwait(false))
            {
                logger.LogInformation("Started the workflow of connection {ConnectionId}, pending since {CreatedAt:O}", connection.Id.Value, connection.CreatedAt);
                started++;
            }
            else
            {
                alreadyStarted++;
            }
        }
        var next = more ? TableClientExtensions.EncodePosition(pending[^1].Connection.Id.Value) : null;
        return TypedResults.Ok(new ResumeConnectionWorkflowsResponse(pending.Count, started, alreadyStarted, skippedRecent, next));
    }
}
