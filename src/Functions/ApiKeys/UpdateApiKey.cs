using System.Text.Json;
using Azure;
using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Functions.Audit;
using ThreePL.Functions.Http;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.ApiKeys;

public sealed record UpdateApiKeyRequest(bool? Enabled);

/// <summary>The key as read, with the ETag its update commits under.</summary>
public sealed record StoredApiKey(ApiKeyRecord Key, ETag ETag);

/// <summary>
/// Disables or re-enables a key through <see cref="OptimisticCommand"/>: a concurrent change of the same key wins and
/// this one decides again on it; a key deleted meanwhile is not found.
/// </summary>
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
        CommandOutcome<StoredApiKey> outcome;
        try
        {
            outcome = await OptimisticCommand.RunAsync<StoredApiKey, KeyUpdate>(
                async token => await keys.GetAsync(caller.AccountId, keyId, token).ConfigureAwait(false) is { } found
                    // A scoped caller sees only its own connection's keys; the others do not exist for it.
                    && (caller.Scope is null || found.Key.ConnectionId == caller.Scope)
                    ? new StoredApiKey(found.Key, found.ETag)
                    : null,
                current => KeyPrivilege.Rule(caller, current.Key.Permissions, current.Key.ConnectionId, creating: false) is { } broken
                    ? (null, broken)
                    : (new KeyUpdate(current, current.Key with { Enabled = enabled }), null),
                _ => true,
                (update, token) => CommitAsync(caller, update, token),
                cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (OptimisticCommand.LostRace(ex))
        {
            return Problems.Conflict("concurrent_update", "The key kept changing while this request ran; try again.");
        }
        return outcome switch
        {
            { NotFound: true } => Problems.NotFound("API key"),
            { Error: { } broken } => KeyPrivilege.Problem(broken),
            _ => TypedResults.Ok(ApiKeyResponse.From(outcome.Stored!.Key)),
        };
    }

    private async Task<StoredApiKey> CommitAsync(Caller caller, KeyUpdate update, CancellationToken cancellationToken)
    {
        var audit = AuditRecord.Create(time.GetUtcNow(), AuditActions.ApiKeyUpdated, new AuditActor(caller.AccountId, caller.KeyId, caller.OnBehalfOf), update.Read.Key.ConnectionId,
            before: JsonSerializer.Serialize(ApiKeyResponse.From(update.Read.Key), EventEnvelope.Json),
            after: JsonSerializer.Serialize(ApiKeyResponse.From(update.Updated), EventEnvelope.Json));
        await keys.UpdateAsync(update.Updated, update.Read.ETag, audit, cancellationToken).ConfigureAwait(false);
        return update.Read with { Key = update.Updated };
    }

    private sealed record KeyUpdate(StoredApiKey Read, ApiKeyRecord Updated);
}
