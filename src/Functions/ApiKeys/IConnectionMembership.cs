using ThreePL.Domain.Common;

namespace ThreePL.Functions.ApiKeys;

/// <summary>Answers whether an account is a party to a connection, so a key can only be scoped to its own.</summary>
public interface IConnectionMembership
{
    Task<bool> IsPartyAsync(AccountId account, ConnectionId connection, CancellationToken cancellationToken);
}
