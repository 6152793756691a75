using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Events;

/// <summary>
/// <c>GET /v1/events?since=</c>: the events the caller's account was told about, in order, so a receiver whose
/// webhook endpoint was down catches up without asking the other party. The same envelopes and ids its webhooks
/// carry; a key scoped to a connection sees that connection's events only. Part of the webhook surface, so it
/// needs the webhook permission.
/// </summary>
public sealed class ListEvents(HttpApi api, EventFeed feed)
{
    [Function(nameof(ListEvents))]
    public Task<IResult> RunAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/events")] HttpRequest request) =>
        api.RunAsync(request, Access.Requires("webhooks:manage", ScopedCallers.Filtered), (Caller caller, CancellationToken ct) => HandleAsync(
            caller, Query.Text(request, "since"), Query.Text(request, "cursor"), Query.Int(request, "limit"), ct));

    public async Task<Results<Ok<Page<EventResponse>>, ProblemHttpResult>> HandleAsync(Caller caller, string? since, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var pageSize = Paging.Limit(limit, errors);
        var from = Rfc3339.Parse(since, "since", errors);
        Paging.Cursor(cursor, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }
        var (items, next) = await feed.ListAsync(caller.AccountId, caller.Kind, caller.Scope, from, cursor, pageSize, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new Page<EventResponse>(items, next));
    }
}
