using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Functions.Accounts;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Audit;

public sealed record AuditEventResponse(
    string Id,
    DateTimeOffset At,
    string Action,
    string? ActorAccountId,
    string? ActorKeyId,
    string? OnBehalfOfAccountId,
    string? ConnectionId,
    string Summary,
    JsonElement? Before,
    JsonElement? After);

/// <summary>
/// The audit trail: of one connection (<c>?connectionId=</c>, readable by both parties), or of the
/// caller's own account (key actions) without it.
/// </summary>
public sealed class ListAuditEvents(HttpApi api, ConnectionAccess access, ConnectionStore connections, AccountStore accounts)
{
    [Function(nameof(ListAuditEvents))]
    public Task<IResult> RunAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/audit-events")] HttpRequest request) =>
        api.RunAsync(request, Access.Requires("connections:read", ScopedCallers.Filtered), (Caller caller, CancellationToken ct) => HandleAsync(
            caller, Query.Text(request, "connectionId"), Query.Text(request, "cursor"), Query.Int(request, "limit"), ct));

    public async Task<Results<Ok<Page<AuditEventResponse>>, ProblemHttpResult>> HandleAsync(Caller caller, string? connectionId, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var pageSize = Paging.Limit(limit, errors);
        Paging.Cursor(cursor, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }
        (IReadOnlyList<AuditRecord> Items, string? Cursor) page;
        if (connectionId is not null)
        {
            var found = await access.FindAsync(caller, connectionId, cancellationToken).ConfigureAwait(false);
            if (found is null)
            {
                return Problems.NotFound("connection");
            }
            page = await AuditLog.ReadAsync(connections.Table, found.Connection.Id.Value, cursor, pageSize, cancellationToken).ConfigureAwait(false);
        }
        else if (caller.Scope is not null)
        {
            return Problems.Validation("connectionId", "A key scoped to a connection reads that connection's audit only; give connectionId.");
        }
        else
        {
            page = await AuditLog.ReadAsync(accounts.Table, caller.AccountId.Value, cursor, pageSize, cancellationToken).ConfigureAwait(false);
        }
        var items = page.Items.Select(Map).ToList();
        return TypedResults.Ok(new Page<AuditEventResponse>(items, page.Cursor));
    }

    private static AuditEventResponse Map(AuditRecord record)
    {
        var who = record.ActorAccountId is null ? "the system" : $"account {record.ActorAccountId}" + (record.ActorKeyId is null ? "" : $" (key {record.ActorKeyId})");
        if (record.OnBehalfOfAccountId is { } threePl)
        {
            who = $"3PL {threePl} on behalf of brand {record.ActorAccountId}";
        }
        return new AuditEventResponse(
            record.Id, record.At, record.Action, record.ActorAccountId?.Value, record.ActorKeyId?.Value, record.OnBehalfOfAccountId?.Value,
            record.ConnectionId?.Value, $"{record.Action} by {who}", Parse(record.Before), Parse(record.After));
    }

    private static JsonElement? Parse(string? json) => json is null ? null : JsonDocument.Parse(json).RootElement.Clone();
}
