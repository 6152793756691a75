using ThreePL.Domain.Accounts;
using ThreePL.Domain.Common;

namespace ThreePL.Functions.Accounts;

/// <summary>
/// An account as stored. <see cref="Activated"/> is false for an account created on someone's behalf (a
/// brand a 3PL onboarded, an invitee without an account) until its owner opens the link and takes it over;
/// such an account has no API keys.
/// </summary>
public sealed record Account(
    AccountId Id,
    AccountKind Kind,
    string Name,
    EmailAddress Email,
    bool Activated,
    DateTimeOffset CreatedAt)
{
    /// <summary>What a 3PL entered when onboarding this brand (JSON), shown back to both; null otherwise.</summary>
    public string? Profile { get; init; }
}

public sealed record AccountResponse(string Id, string Kind, string Name, string Email, bool Activated, DateTimeOffset CreatedAt)
{
    public static AccountResponse From(Account account) =>
        new(account.Id.Value, AccountKindNames.ToWire(account.Kind), account.Name, account.Email.Value, account.Activated, account.CreatedAt);
}
