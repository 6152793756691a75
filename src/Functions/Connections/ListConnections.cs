using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Connections;

/// <summary>
/// The caller's connections, optionally by status. Membership rows give the ids a page at a time; the
/// connection rows give the current status, so a filtered page can hold fewer than <c>limit</c> items
/// while <c>nextCursor</c> still says there is more.
/// </summary>
public sealed class ListConnections(ConnectionStore store)
{
    public async Task<Results<Ok<Page<ConnectionResponse>>, ProblemHttpResult>> HandleAsync(Caller caller, string? status, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var pageSize = Paging.Limit(limit, errors);
        ConnectionStatus? wanted = null;
        if (status is not null)
        {
            if (ConnectionStatusNames.TryParse(status, out var parsed))
            {
                wanted = parsed;
            }
            else
            {
                errors.Add("status", $"Must be one of: {string.Join(", ", ConnectionStatusNames.All)}.");
            }
        }
        Paging.Cursor(cursor, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }
        if (caller.Scope is { } scope)
        {
            var only = await store.GetAsync(scope, cancellationToken).ConfigureAwait(false);
            var items = only is not null && (wanted is null || only.Connection.Status == wanted) ? [ConnectionResponse.For(only, caller.AccountId)] : Array.Empty<ConnectionResponse>();
            return TypedResults.Ok(new Page<ConnectionResponse>(items, null));
        }
        var (ids, next) = await store.ListIdsAsync(caller.AccountId, cursor, pageSize, cancellationToken).ConfigureAwait(false);
        var connections = await Task.WhenAll(ids.Select(id => store.GetAsync(id, cancellationToken))).ConfigureAwait(false);
        var visible = connections
            .Where(c => c is not null && c.Connection.PartyOf(caller.AccountId) is not null && (wanted is null || c.Connection.Status == wanted))
            .Select(c => ConnectionResponse.For(c!, caller.AccountId))
            .ToList();
        return TypedResults.Ok(new Page<ConnectionResponse>(visible, next));
    }
}
