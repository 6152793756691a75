using ThreePL.Domain.Accounts;

namespace ThreePL.Functions.Http;

/// <summary>Who may call an HTTP function: declared next to its trigger, enforced by <see cref="HttpApi"/>.</summary>
public sealed record Access
{
    private Access(AccessKind kind, string? permission)
    {
        Kind = kind;
        Permission = permission;
    }

    /// <summary>No key: the e-mail pages, health probes and the OpenAPI document.</summary>
    public static Access Public { get; } = new(AccessKind.Public, null);

    /// <summary>The operator key (<c>ThreePL:AdminKey</c>).</summary>
    public static Access Operator { get; } = new(AccessKind.Operator, null);

    /// <summary>Any valid, enabled key, whatever its permissions.</summary>
    public static Access AnyKey { get; } = new(AccessKind.Key, null);

    public AccessKind Kind { get; }

    public string? Permission { get; }

    /// <summary>A key (or brand token) holding <paramref name="permission"/>.</summary>
    public static Access Requires(string permission) => PermissionSet.Known.Contains(permission)
        ? new Access(AccessKind.Key, permission)
        : throw new ArgumentException($"Unknown permission '{permission}'.", nameof(permission));
}

public enum AccessKind
{
    Public,
    Operator,
    Key,
}
