using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Accounts;

/// <summary>The caller's own account.</summary>
public sealed class GetAccount(AccountStore accounts)
{
    public async Task<Results<Ok<AccountResponse>, ProblemHttpResult>> HandleAsync(Caller caller, CancellationToken cancellationToken)
    {
        var account = await accounts.GetAsync(caller.AccountId, cancellationToken).ConfigureAwait(false);
        return account is null ? Problems.NotFound("account") : TypedResults.Ok(AccountResponse.From(account));
    }
}
