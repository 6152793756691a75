using ThreePL.Domain.Common;
using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.ApiKeys;

/// <summary>The caller's keys, without secrets; a scoped caller sees only keys of its own scope.</summary>
public sealed class ListApiKeys(ApiKeyStore keys)
{
    public async Task<Results<Ok<Page<ApiKeyResponse>>, ProblemHttpResult>> HandleAsync(Caller caller, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var pageSize = Paging.Limit(limit, errors);
        Paging.Cursor(cursor, errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }
        var (items, next) = await keys.ListAsync(caller.AccountId, cursor, pageSize, cancellationToken).ConfigureAwait(false);
        var visible = items.Where(k => caller.Scope is null || k.ConnectionId == caller.Scope).Select(ApiKeyResponse.From).ToList();
        return TypedResults.Ok(new Page<ApiKeyResponse>(visible, next));
    }
}
