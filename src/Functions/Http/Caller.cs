using ThreePL.Domain.Accounts;
using ThreePL.Domain.Common;

namespace ThreePL.Functions.Http;

/// <summary>
/// Who is calling: the account and key behind the bearer token. <see cref="Scope"/> is set for a key
/// limited to one connection; such a caller sees that connection and its orders and nothing else.
/// </summary>
public sealed record Caller(AccountId AccountId, AccountKind Kind, ApiKeyId KeyId, PermissionSet Permissions, ConnectionId? Scope)
{
    /// <summary>Set when a 3PL acts inside a brand's account (log in to brand): the 3PL's account.</summary>
    public AccountId? OnBehalfOf { get; init; }

    /// <summary>True when a scoped caller may touch <paramref name="connection"/> (unscoped callers may touch any of theirs).</summary>
    public bool CanSee(ConnectionId connection) => Scope is null || Scope == connection;
}

/// <summary>The operator, authenticated by <c>ThreePL:AdminKey</c>; it has no account.</summary>
public sealed record OperatorCaller;
