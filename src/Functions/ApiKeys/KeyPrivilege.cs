using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Accounts;
using ThreePL.Domain.Common;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.ApiKeys;

/// <summary>
/// The rule every key operation passes: a key creates, enables, disables or deletes only keys that hold nothing it
/// does not hold itself, permissions and reach alike. Otherwise a <c>keys:manage</c> key could re-enable a disabled
/// <c>*</c> key, or delete every <c>*</c> key and lock the owner out; the same rule keeps the last enabled <c>*</c>
/// key out of every lesser key's reach.
/// </summary>
public static class KeyPrivilege
{
    /// <summary>Creating a key with more than the caller holds.</summary>
    public const string CannotGrant = "cannot_grant_permission";

    /// <summary>Enabling, disabling or deleting a key that holds more than the caller.</summary>
    public const string CannotManage = "key_privilege_exceeded";

    /// <returns>The 403 to answer, or null when <paramref name="caller"/> may create or manage such a key.</returns>
    public static ProblemHttpResult? Refusal(Caller caller, PermissionSet permissions, ConnectionId? scope, bool creating) =>
        Rule(caller, permissions, scope, creating) is { } broken ? Problem(broken) : null;

    /// <returns>The rule <paramref name="caller"/> would break by creating or managing such a key, or null.</returns>
    public static DomainError? Rule(Caller caller, PermissionSet permissions, ConnectionId? scope, bool creating)
    {
        var code = creating ? CannotGrant : CannotManage;
        var verb = creating ? "grant" : "manage a key with";
        if (caller.Permissions.FirstNotCovered(permissions) is { } missing)
        {
            return new DomainError(code, $"This API key cannot {verb} '{missing}', which it does not hold itself.");
        }
        // A scoped caller reaches one connection; an account-wide key reaches them all.
        return caller.Scope is { } own && scope != own
            ? new DomainError(code, "A key scoped to a connection can act only on keys of the same scope.")
            : null;
    }

    /// <summary>The 403 for a broken key-privilege rule.</summary>
    public static ProblemHttpResult Problem(DomainError broken) => Problems.Forbidden(broken.Code, broken.Message);
}
