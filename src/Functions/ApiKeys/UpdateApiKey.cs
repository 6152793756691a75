using System.Text.Json;
using Azure;
using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Functions.Audit;
using ThreePL.Functions.Http;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.ApiKeys;

public sealed record UpdateApiKeyRequest(bool? Enabled);

/// <summary>Disables or re-enables a key. A concurrent change of the same key wins; this one is retried on it.</summary>
public sealed class UpdateApiKey(ApiKeyStore keys, TimeProvider time)
{
    public async Task<Results<Ok<ApiKeyResponse>, ProblemHttpResult>> HandleAsync(Caller caller, string id, UpdateApiKeyRequest request, CancellationToken cancellationToken)
    {
        if (request.Enabled is not { } enabled)
        {
            return Problems.Validation("enabled", "This field is required (true or false).");
        }
        if (!ApiKeyId.TryParse(id, out var keyId))
        {
            return Problems.NotFound("API key");
        }
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var found = await keys.GetAsync(caller.AccountId, keyId, cancellationToken).ConfigureAwait(false);
            if (found is not { Key: var key, ETag: var etag } || (caller.Scope is not null && key.ConnectionId != caller.Scope))
            {
                return Problems.NotFound("API key");
            }
            if (KeyPrivilege.Refusal(caller, key.Permissions, key.ConnectionId, creating: false) is { } refusal)
            {
                return refusal;
            }
            var updated = key with { Enabled = enabled };
            try
            {
                var audit = AuditRecord.Create(time.GetUtcNow(), AuditActions.ApiKeyUpdated, new AuditActor(caller.AccountId, caller.KeyId, caller.OnBehalfOf), key.ConnectionId,
                    before: JsonSerializer.Serialize(ApiKeyResponse.From(key), EventEnvelope.Json),
                    after: JsonSerializer.Serialize(ApiKeyResponse.From(updated), EventEnvelope.Json));
                await keys.UpdateAsync(updated, etag, audit, cancellationToken).ConfigureAwait(false);
                return TypedResults.Ok(ApiKeyResponse.From(updated));
            }
            catch (RequestFailedException ex) when (ex.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status404NotFound)
            {
            }
        }
        return Problems.Conflict("concurrent_update", "The key kept changing while this request ran; try again.");
    }
}
