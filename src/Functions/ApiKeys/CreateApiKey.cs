using Microsoft.AspNetCore.Http.HttpResults;
using System.Text.Json;
using ThreePL.Domain.Accounts;
using ThreePL.Domain.Common;
using ThreePL.Functions.Audit;
using ThreePL.Functions.Http;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.ApiKeys;

public sealed record CreateApiKeyRequest(string? Name, List<string?>? Permissions, string? ConnectionId);

/// <summary>
/// Creates a key for the caller's account. A key never grants more than the key that created it: only
/// permissions the caller holds, and a scoped caller creates keys of its own scope only.
/// </summary>
public sealed class CreateApiKey(ApiKeyStore keys, IConnectionMembership membership, TimeProvider time)
{
    public const int MaxNameLength = 100;
    public const int MaxPermissions = 20;

    public async Task<Results<Created<CreatedApiKeyResponse>, ProblemHttpResult>> HandleAsync(Caller caller, CreateApiKeyRequest request, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var name = errors.Text("name", request.Name, MaxNameLength);
        PermissionSet? permissions = null;
        if (request.Permissions is null)
        {
            errors.Add("permissions", "This field is required.");
        }
        else if (request.Permissions.Count > MaxPermissions)
        {
            errors.Add("permissions", $"At most {MaxPermissions} entries.");
        }
        else if (!PermissionSet.TryParse(request.Permissions, out permissions, out var permissionError))
        {
            errors.Add("permissions", permissionError!);
        }
        ConnectionId? scope = caller.Scope;
        if (request.ConnectionId is not null)
        {
            if (!ConnectionId.TryParse(request.ConnectionId, out var requested))
            {
                errors.Add("connectionId", "Must be a connection id.");
            }
            else if (!caller.CanSee(requested) || !await membership.IsPartyAsync(caller.AccountId, requested, cancellationToken).ConfigureAwait(false))
            {
                errors.Add("connectionId", "No such connection.");
            }
            else
            {
                scope = requested;
            }
        }
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }
        if (KeyPrivilege.Refusal(caller, permissions!, scope, creating: true) is { } refusal)
        {
            return refusal;
        }
        var now = time.GetUtcNow();
        var id = ApiKeyId.New();
        var (token, hash) = ApiKeySecret.Create(caller.AccountId, id);
        var key = new ApiKeyRecord(caller.AccountId, id, caller.Kind, name!, permissions!, scope, hash, true, now, null);
        var audit = AuditRecord.Create(now, AuditActions.ApiKeyCreated, new AuditActor(caller.AccountId, caller.KeyId, caller.OnBehalfOf), scope,
            after: JsonSerializer.Serialize(ApiKeyResponse.From(key), EventEnvelope.Json));
        await keys.AddAsync(key, audit, cancellationToken).ConfigureAwait(false);
        return TypedResults.Created($"/v1/api-keys/{id}", new CreatedApiKeyResponse(id.Value, key.Name, permissions!.Names, scope?.Value, true, now, token));
    }
}
