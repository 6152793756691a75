using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Connections;

public sealed class GetConnection(ConnectionAccess access)
{
    public async Task<Results<Ok<ConnectionResponse>, ProblemHttpResult>> HandleAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        var found = await access.FindAsync(caller, id, cancellationToken).ConfigureAwait(false);
        return found is null ? Problems.NotFound("connection") : TypedResults.Ok(ConnectionResponse.For(found, caller.AccountId));
    }
}
