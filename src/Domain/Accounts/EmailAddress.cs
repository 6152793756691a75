using System.Diagnostics.CodeAnalysis;
using System.Net.Mail;

namespace ThreePL.Domain.Accounts;

/// <summary>
/// A normalised e-mail address. Uniqueness of accounts is by this form: trimmed and lower-cased, because
/// people type their addresses in every casing and mail providers treat them alike.
/// </summary>
public readonly record struct EmailAddress
{
    /// <summary>The longest address accepted (RFC 5321 path limit).</summary>
    public const int MaxLength = 254;

    private EmailAddress(string value) => Value = value;

    /// <summary>The normalised address.</summary>
    public string Value { get; }

    /// <summary>Validates and normalises untrusted input.</summary>
    public static bool TryParse([NotNullWhen(true)] string? input, out EmailAddress email)
    {
        email = default;
        var trimmed = input?.Trim();
        if (string.IsNullOrEmpty(trimmed) || trimmed.Length > MaxLength || trimmed.Any(char.IsControl)
            || trimmed.Contains(' ', StringComparison.Ordinal))
        {
            return false;
        }
        if (!MailAddress.TryCreate(trimmed, out var parsed) || parsed.Address != trimmed
            || !parsed.Host.Contains('.', StringComparison.Ordinal))
        {
            return false;
        }
        email = new EmailAddress(trimmed.ToLowerInvariant());
        return true;
    }

    /// <inheritdoc />
    public override string ToString() => Value;
}
