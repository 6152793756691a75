using System.Diagnostics.CodeAnalysis;

namespace ThreePL.Domain.Connections;

/// <summary>The side an account takes in a connection.</summary>
public enum Party
{
    /// <summary>The third-party logistics provider.</summary>
    ThreePl,

    /// <summary>The merchant (brand, client).</summary>
    Merchant,
}

/// <summary>Whose configuration or account a connection setting points at.</summary>
public enum SettingsOwner
{
    /// <summary>The 3PL's.</summary>
    ThreePl,

    /// <summary>The merchant's.</summary>
    Merchant,
}

/// <summary>Wire names of <see cref="Party"/> and <see cref="SettingsOwner"/>: <c>threepl</c> and <c>merchant</c>.</summary>
public static class PartyNames
{
    /// <summary>Wire name of the 3PL side.</summary>
    public const string ThreePl = "threepl";

    /// <summary>Wire name of the merchant side.</summary>
    public const string Merchant = "merchant";

    /// <summary>The wire name of <paramref name="party"/>.</summary>
    public static string ToWire(Party party) => party switch
    {
        Party.ThreePl => ThreePl,
        Party.Merchant => Merchant,
        _ => throw new ArgumentOutOfRangeException(nameof(party), party, "Undefined party."),
    };

    /// <summary>The wire name of <paramref name="owner"/>.</summary>
    public static string ToWire(SettingsOwner owner) => owner switch
    {
        SettingsOwner.ThreePl => ThreePl,
        SettingsOwner.Merchant => Merchant,
        _ => throw new ArgumentOutOfRangeException(nameof(owner), owner, "Undefined settings owner."),
    };

    /// <summary>Parses <c>threepl</c> or <c>merchant</c> exactly; false for anything else.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out Party party)
    {
        (var ok, party) = value switch
        {
            ThreePl => (true, Party.ThreePl),
            Merchant => (true, Party.Merchant),
            _ => (false, default),
        };
        return ok;
    }

    /// <summary>Parses <c>threepl</c> or <c>merchant</c> exactly; false for anything else.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out SettingsOwner owner)
    {
        (var ok, owner) = value switch
        {
            ThreePl => (true, SettingsOwner.ThreePl),
            Merchant => (true, SettingsOwner.Merchant),
            _ => (false, default),
        };
        return ok;
    }
}
