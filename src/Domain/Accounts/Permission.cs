using System.Collections.Immutable;

namespace ThreePL.Domain.Accounts;

/// <summary>
/// The permissions an API key can carry. <c>*</c> grants all of them, including ones added later, which is
/// why it is stored as itself rather than expanded.
/// </summary>
public sealed class PermissionSet
{
    /// <summary>The wildcard that grants every permission.</summary>
    public const string All = "*";

    /// <summary>Every permission name the product knows, in documentation order.</summary>
    public static readonly ImmutableArray<string> Known =
    [
        "connections:read", "connections:write", "orders:read", "orders:write", "shipments:write",
        "inventory:read", "inventory:write", "billing:read", "webhooks:manage", "keys:manage",
    ];

    private readonly ImmutableSortedSet<string> _names;

    private PermissionSet(ImmutableSortedSet<string> names) => _names = names;

    /// <summary>A set holding only the wildcard.</summary>
    public static PermissionSet Everything { get; } = new([All]);

    /// <summary>The names in this set, sorted (the wildcard stays <c>*</c>).</summary>
    public IReadOnlyCollection<string> Names => _names;

    /// <summary>True when the set grants <paramref name="permission"/>.</summary>
    public bool Allows(string permission) => _names.Contains(All) || _names.Contains(permission);

    /// <summary>The first permission of <paramref name="other"/> this set does not grant, or null when it grants them all. The wildcard is granted only by itself: it grants permissions added later, which no list of today's names does.</summary>
    public string? FirstNotCovered(PermissionSet other) =>
        _names.Contains(All) ? null : other._names.FirstOrDefault(n => n == All || !_names.Contains(n));

    /// <summary>
    /// Parses a list from a client. Fails with a message naming the first unknown entry, or when the list is
    /// empty: a key that can do nothing is almost always a mistake.
    /// </summary>
    public static bool TryParse(IEnumerable<string?>? values, out PermissionSet set, out string? error)
    {
        set = Everything;
        var names = ImmutableSortedSet.CreateBuilder<string>(StringComparer.Ordinal);
        foreach (var value in values ?? [])
        {
            if (value is null || (value != All && !Known.Contains(value)))
            {
                error = $"Unknown permission '{Truncate(value)}'. Known: {All}, {string.Join(", ", Known)}.";
                return false;
            }
            names.Add(value);
        }
        if (names.Count == 0)
        {
            error = "At least one permission is required.";
            return false;
        }
        set = new PermissionSet(names.ToImmutable());
        error = null;
        return true;
    }

    /// <summary>Restores a set persisted with <see cref="ToString"/>; throws on unknown names.</summary>
    public static PermissionSet Parse(string stored) =>
        TryParse(stored.Split(' ', StringSplitOptions.RemoveEmptyEntries), out var set, out var error)
            ? set
            : throw new FormatException(error);

    /// <summary>Space-separated names, the persisted form.</summary>
    public override string ToString() => string.Join(' ', _names);

    private static string Truncate(string? value) =>
        value is null ? "null" : value.Length <= 40 ? value : string.Concat(value.AsSpan(0, 40), "…");
}
