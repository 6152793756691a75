using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Functions.Audit;
using ThreePL.Functions.Http;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.ApiKeys;

/// <summary>Deletes a key for good; requests with it fail from then on.</summary>
public sealed class DeleteApiKey(ApiKeyStore keys, TimeProvider time)
{
    public async Task<Results<NoContent, ProblemHttpResult>> HandleAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        if (!ApiKeyId.TryParse(id, out var keyId))
        {
            return Problems.NotFound("API key");
        }
        var found = await keys.GetAsync(caller.AccountId, keyId, cancellationToken).ConfigureAwait(false);
        if (found is not { Key: var key, ETag: var etag } || (caller.Scope is not null && key.ConnectionId != caller.Scope))
        {
            return Problems.NotFound("API key");
        }
        if (KeyPrivilege.Refusal(caller, key.Permissions, key.ConnectionId, creating: false) is { } refusal)
        {
            return refusal;
        }
        var audit = AuditRecord.Create(time.GetUtcNow(), AuditActions.ApiKeyDeleted, new AuditActor(caller.AccountId, caller.KeyId, caller.OnBehalfOf), key.ConnectionId,
            before: JsonSerializer.Serialize(ApiKeyResponse.From(key), EventEnvelope.Json));
        try
        {
            await keys.DeleteAsync(caller.AccountId, keyId, etag, audit, cancellationToken).ConfigureAwait(false);
        }
        catch (TableTransactionFailedException ex) when (ex.Status is StatusCodes.Status404NotFound or StatusCodes.Status412PreconditionFailed)
        {
            return Problems.NotFound("API key");
        }
        return TypedResults.NoContent();
    }
}
