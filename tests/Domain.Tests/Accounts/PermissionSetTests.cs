using ThreePL.Domain.Accounts;

namespace ThreePL.Domain.Tests.Accounts;

public sealed class PermissionSetTests
{
    private static PermissionSet Set(params string[] names) =>
        PermissionSet.TryParse(names, out var set, out var error) ? set : throw new FormatException(error);

    [Fact]
    public void The_wildcard_grants_everything_including_itself()
    {
        Assert.Null(PermissionSet.Everything.FirstNotCovered(Set("*")));
        Assert.Null(PermissionSet.Everything.FirstNotCovered(Set("orders:read", "keys:manage")));
    }

    [Fact]
    public void Every_known_permission_short_of_the_wildcard_does_not_grant_the_wildcard()
    {
        var allKnown = Set([.. PermissionSet.Known]);
        Assert.Equal("*", allKnown.FirstNotCovered(Set("*")));
    }

    [Fact]
    public void A_set_grants_its_subsets_and_names_the_first_missing_permission_otherwise()
    {
        var manager = Set("keys:manage", "orders:read");
        Assert.Null(manager.FirstNotCovered(Set("orders:read")));
        Assert.Null(manager.FirstNotCovered(Set("orders:read", "keys:manage")));
        Assert.Equal("orders:write", manager.FirstNotCovered(Set("orders:read", "orders:write")));
    }
}
