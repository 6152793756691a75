using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace ThreePL.Domain.Common;

/// <summary>
/// The one format every identifier shares: a fixed prefix, an underscore and 20 characters of lower-case
/// Crockford-style base32. The alphabet is safe in table keys, OData literals and URL paths, so an id that
/// passed <see cref="IsValid"/> can never change the meaning of a storage query.
/// </summary>
public static class Identifier
{
    /// <summary>Length of the random part of every identifier.</summary>
    public const int RandomLength = 20;

    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

    /// <summary>Creates a new random identifier with the given prefix.</summary>
    public static string New(string prefix)
    {
        Span<byte> bytes = stackalloc byte[RandomLength];
        RandomNumberGenerator.Fill(bytes);
        return From(prefix, bytes);
    }

    /// <summary>The identifier whose random part is taken from <paramref name="bytes"/> (at least <see cref="RandomLength"/> of them).</summary>
    public static string From(string prefix, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < RandomLength)
        {
            throw new ArgumentException($"An identifier needs {RandomLength} bytes, not {bytes.Length}.", nameof(bytes));
        }
        Span<char> chars = stackalloc char[RandomLength];
        for (var i = 0; i < RandomLength; i++)
        {
            chars[i] = Alphabet[bytes[i] & 31];
        }
        return string.Concat(prefix, "_", chars);
    }

    /// <summary>True when <paramref name="value"/> is <paramref name="prefix"/>, an underscore and a valid random part.</summary>
    public static bool IsValid(string prefix, [NotNullWhen(true)] string? value)
    {
        if (value is null || value.Length != prefix.Length + 1 + RandomLength
            || !value.StartsWith(prefix, StringComparison.Ordinal) || value[prefix.Length] != '_')
        {
            return false;
        }
        foreach (var c in value.AsSpan(prefix.Length + 1))
        {
            if (!Alphabet.Contains(c))
            {
                return false;
            }
        }
        return true;
    }
}

/// <summary>Identifies an account (merchant or 3PL).</summary>
public readonly record struct AccountId
{
    private const string Prefix = "acc";

    private AccountId(string value) => Value = value;

    /// <summary>The textual form, e.g. <c>acc_…</c>.</summary>
    public string Value { get; }

    /// <summary>A new random id.</summary>
    public static AccountId New() => new(Identifier.New(Prefix));

    /// <summary>The id whose random part comes from <paramref name="digest"/>: the same digest, the same id.</summary>
    public static AccountId From(ReadOnlySpan<byte> digest) => new(Identifier.From(Prefix, digest));

    /// <summary>Parses untrusted input; false when it is not an account id.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out AccountId id)
    {
        id = Identifier.IsValid(Prefix, value) ? new AccountId(value) : default;
        return id.Value is not null;
    }

    /// <summary>Parses trusted input (e.g. from storage); throws when it is malformed.</summary>
    public static AccountId Parse(string value) =>
        TryParse(value, out var id) ? id : throw new FormatException($"'{value}' is not an account id.");

    /// <inheritdoc />
    public override string ToString() => Value;
}

/// <summary>Identifies a connection between a 3PL and a merchant.</summary>
public readonly record struct ConnectionId
{
    private const string Prefix = "con";

    private ConnectionId(string value) => Value = value;

    /// <summary>The textual form, e.g. <c>con_…</c>.</summary>
    public string Value { get; }

    /// <summary>A new random id.</summary>
    public static ConnectionId New() => new(Identifier.New(Prefix));

    /// <summary>Parses untrusted input; false when it is not a connection id.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out ConnectionId id)
    {
        id = Identifier.IsValid(Prefix, value) ? new ConnectionId(value) : default;
        return id.Value is not null;
    }

    /// <summary>Parses trusted input (e.g. from storage); throws when it is malformed.</summary>
    public static ConnectionId Parse(string value) =>
        TryParse(value, out var id) ? id : throw new FormatException($"'{value}' is not a connection id.");

    /// <inheritdoc />
    public override string ToString() => Value;
}

/// <summary>
/// Identifies an order. Two forms, and the form says where the order is stored: <c>ord_</c> and 20 characters (orders
/// received before December 2026, each in a storage partition of its own), or <c>ord_</c>, 20 characters and the 20
/// characters of the merchant's account id (the order lives in its merchant's partition, so the id alone locates it).
/// </summary>
public readonly record struct OrderId
{
    private const string Prefix = "ord";
    private const string AccountPrefix = "acc_";

    private OrderId(string value) => Value = value;

    /// <summary>The textual form, e.g. <c>ord_…</c>.</summary>
    public string Value { get; }

    /// <summary>The merchant whose partition holds the order; null for an order of the older, own-partition form.</summary>
    public AccountId? Merchant => Value.Length == OwnLength + Identifier.RandomLength
        ? AccountId.Parse(AccountPrefix + Value[OwnLength..])
        : null;

    /// <summary>The id without its merchant part: the whole id of an order of the older form.</summary>
    public string Own => Value[..OwnLength];

    private static int OwnLength => Prefix.Length + 1 + Identifier.RandomLength;

    /// <summary>A new random id of the older form (no merchant part).</summary>
    public static OrderId New() => new(Identifier.New(Prefix));

    /// <summary>The id of an order of <paramref name="merchant"/> whose own part comes from <paramref name="digest"/>.</summary>
    public static OrderId InMerchantPartition(AccountId merchant, ReadOnlySpan<byte> digest) =>
        new(Identifier.From(Prefix, digest) + merchant.Value[AccountPrefix.Length..]);

    /// <summary>Parses untrusted input; false when it is not an order id.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out OrderId id)
    {
        var valid = Identifier.IsValid(Prefix, value)
            || (value is { Length: var length } && length == OwnLength + Identifier.RandomLength
                && Identifier.IsValid(Prefix, value[..OwnLength]) && AccountId.TryParse(AccountPrefix + value[OwnLength..], out _));
        id = valid ? new OrderId(value!) : default;
        return id.Value is not null;
    }

    /// <summary>Parses trusted input (e.g. from storage); throws when it is malformed.</summary>
    public static OrderId Parse(string value) =>
        TryParse(value, out var id) ? id : throw new FormatException($"'{value}' is not an order id.");

    /// <inheritdoc />
    public override string ToString() => Value;
}

/// <summary>Identifies an API key.</summary>
public readonly record struct ApiKeyId
{
    private const string Prefix = "key";

    private ApiKeyId(string value) => Value = value;

    /// <summary>The textual form, e.g. <c>key_…</c>.</summary>
    public string Value { get; }

    /// <summary>A new random id.</summary>
    public static ApiKeyId New() => new(Identifier.New(Prefix));

    /// <summary>Parses untrusted input; false when it is not an API key id.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out ApiKeyId id)
    {
        id = Identifier.IsValid(Prefix, value) ? new ApiKeyId(value) : default;
        return id.Value is not null;
    }

    /// <summary>Parses trusted input (e.g. from storage); throws when it is malformed.</summary>
    public static ApiKeyId Parse(string value) =>
        TryParse(value, out var id) ? id : throw new FormatException($"'{value}' is not an API key id.");

    /// <inheritdoc />
    public override string ToString() => Value;
}

/// <summary>Identifies a carrier support ticket on an order.</summary>
public readonly record struct TicketId
{
    private const string Prefix = "tkt";

    private TicketId(string value) => Value = value;

    /// <summary>The textual form, e.g. <c>tkt_…</c>.</summary>
    public string Value { get; }

    /// <summary>A new random id.</summary>
    public static TicketId New() => new(Identifier.New(Prefix));

    /// <summary>Parses untrusted input; false when it is not a ticket id.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out TicketId id)
    {
        id = Identifier.IsValid(Prefix, value) ? new TicketId(value) : default;
        return id.Value is not null;
    }

    /// <summary>Parses trusted input (e.g. from storage); throws when it is malformed.</summary>
    public static TicketId Parse(string value) =>
        TryParse(value, out var id) ? id : throw new FormatException($"'{value}' is not a ticket id.");

    /// <inheritdoc />
    public override string ToString() => Value;
}
