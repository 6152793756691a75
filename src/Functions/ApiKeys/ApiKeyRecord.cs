using ThreePL.Domain.Accounts;
using ThreePL.Domain.Common;

namespace ThreePL.Functions.ApiKeys;

/// <summary>
/// An API key as stored: never the secret, only its SHA-256. The secret is 256 random bits, so a fast hash
/// is enough (no dictionary to attack) and keeps authentication to one point read and one hash.
/// <see cref="AccountKind"/> is copied from the account so that read is all a request costs.
/// </summary>
public sealed record ApiKeyRecord(
    AccountId AccountId,
    ApiKeyId Id,
    AccountKind AccountKind,
    string Name,
    PermissionSet Permissions,
    ConnectionId? ConnectionId,
    byte[] SecretHash,
    bool Enabled,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastUsedAt);

public sealed record ApiKeyResponse(
    string Id,
    string Name,
    IReadOnlyCollection<string> Permissions,
    string? ConnectionId,
    bool Enabled,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastUsedAt)
{
    public static ApiKeyResponse From(ApiKeyRecord key) =>
        new(key.Id.Value, key.Name, key.Permissions.Names, key.ConnectionId?.Value, key.Enabled, key.CreatedAt, key.LastUsedAt);
}

/// <summary>The creation response: the only time the secret is ever shown.</summary>
public sealed record CreatedApiKeyResponse(
    string Id,
    string Name,
    IReadOnlyCollection<string> Permissions,
    string? ConnectionId,
    bool Enabled,
    DateTimeOffset CreatedAt,
    string Key);
