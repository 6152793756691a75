using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.ApiKeys;

/// <summary>Deletes a key for good; requests with it fail from then on.</summary>
public sealed class DeleteApiKey(ApiKeyStore keys)
{
    public async Task<Results<NoContent, ProblemHttpResult>> HandleAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        if (!ApiKeyId.TryParse(id, out var keyId))
        {
            return Problems.NotFound("API key");
        }
        var found = await keys.GetAsync(caller.AccountId, keyId, cancellationToken).ConfigureAwait(false);
        if (found is not { Key: var key } || (caller.Scope is not null && key.ConnectionId != caller.Scope))
        {
            return Problems.NotFound("API key");
        }
        await keys.DeleteAsync(caller.AccountId, keyId, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }
}
