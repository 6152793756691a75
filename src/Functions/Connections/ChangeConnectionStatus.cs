using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Connections;

public sealed record ApproveConnectionRequest(bool? Confirm);

/// <summary>
/// Approve, decline, cancel, deactivate, reactivate and disconnect: each is one domain transition by the
/// caller's account, so they share this handler; the domain decides who may do what in which state.
/// </summary>
public sealed class ChangeConnectionStatus(ConnectionAccess access, ConnectionCommands commands)
{
    public async Task<Results<Ok<ConnectionResponse>, ProblemHttpResult>> HandleAsync(
        Caller caller,
        string id,
        Func<Connection, AccountId, DateTimeOffset, Outcome<ConnectionEvent>> transition,
        CancellationToken cancellationToken)
    {
        var found = await access.FindAsync(caller, id, cancellationToken).ConfigureAwait(false);
        if (found is null)
        {
            return Problems.NotFound("connection");
        }
        var result = await commands.TransitionAsync(found.Connection.Id, ConnectionAccess.Actor(caller),
            (connection, now) => transition(connection, caller.AccountId, now), cancellationToken).ConfigureAwait(false);
        if (result.NotFound)
        {
            return Problems.NotFound("connection");
        }
        return result.Error is { } error
            ? ConnectionAccess.Problem(error, result.Connection!.Connection)
            : TypedResults.Ok(ConnectionResponse.For(result.Connection!, caller.AccountId));
    }
}
