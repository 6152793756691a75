using ThreePL.Domain.Accounts;

namespace ThreePL.Functions.Http;

/// <summary>
/// Who may call an HTTP function: declared next to its trigger, enforced by <see cref="HttpApi"/>. Every function a
/// key calls also declares what a scoped caller (a key scoped to one connection, or a "log in to brand" token) gets,
/// so no endpoint can be added without that decision.
/// </summary>
public sealed record Access
{
    private Access(AccessKind kind, string? permission, ScopedCallers scopedCallers)
    {
        Kind = kind;
        Permission = permission;
        ScopedCallers = scopedCallers;
    }

    /// <summary>No key: the e-mail pages, health probes and the OpenAPI document.</summary>
    public static Access Public { get; } = new(AccessKind.Public, null, ScopedCallers.Refused);

    /// <summary>The operator key (<c>ThreePL:AdminKey</c>).</summary>
    public static Access Operator { get; } = new(AccessKind.Operator, null, ScopedCallers.Refused);

    public AccessKind Kind { get; }

    public string? Permission { get; }

    public ScopedCallers ScopedCallers { get; }

    /// <summary>Any valid, enabled key, whatever its permissions.</summary>
    public static Access AnyKey(ScopedCallers scopedCallers) => new(AccessKind.Key, null, scopedCallers);

    /// <summary>A key (or brand token) holding <paramref name="permission"/>.</summary>
    public static Access Requires(string permission, ScopedCallers scopedCallers) => PermissionSet.Known.Contains(permission)
        ? new Access(AccessKind.Key, permission, scopedCallers)
        : throw new ArgumentException($"Unknown permission '{permission}'.", nameof(permission));
}

public enum AccessKind
{
    Public,
    Operator,
    Key,
}

/// <summary>What a caller scoped to one connection gets from a function.</summary>
public enum ScopedCallers
{
    /// <summary>The function answers with, and acts on, only what belongs to the caller's connection.</summary>
    Filtered,

    /// <summary>
    /// The function reads or changes what belongs to the whole account (routing rules naming every 3PL, carrier
    /// accounts, new connections, account-wide webhook endpoints): 403 <c>scoped_key_not_allowed</c>.
    /// </summary>
    Refused,
}
