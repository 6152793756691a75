namespace ThreePL.Domain.Accounts;

/// <summary>Which side of the market an account is on.</summary>
public enum AccountKind
{
    /// <summary>An online shop (also called brand or client).</summary>
    Merchant,

    /// <summary>A third-party logistics provider.</summary>
    ThreePl,
}

/// <summary>Wire names of <see cref="AccountKind"/>: <c>merchant</c> and <c>threepl</c>.</summary>
public static class AccountKindNames
{
    /// <summary>The wire name of <paramref name="kind"/>.</summary>
    public static string ToWire(AccountKind kind) => kind switch
    {
        AccountKind.Merchant => "merchant",
        AccountKind.ThreePl => "threepl",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>Parses a wire name; false for anything else, including other casings.</summary>
    public static bool TryParse(string? value, out AccountKind kind)
    {
        (var ok, kind) = value switch
        {
            "merchant" => (true, AccountKind.Merchant),
            "threepl" => (true, AccountKind.ThreePl),
            _ => (false, default),
        };
        return ok;
    }
}
