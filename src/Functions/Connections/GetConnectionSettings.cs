using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Connections;

/// <summary>Both parties read the settings; the ETag is the settings version, for <c>If-Match</c> on PATCH.</summary>
public sealed class GetConnectionSettings(ConnectionAccess access)
{
    public async Task<Results<Ok<ConnectionSettingsResponse>, ProblemHttpResult>> HandleAsync(Caller caller, string id, HttpResponse response, CancellationToken cancellationToken)
    {
        var found = await access.FindAsync(caller, id, cancellationToken).ConfigureAwait(false);
        if (found is null)
        {
            return Problems.NotFound("connection");
        }
        response.Headers.ETag = ConnectionSettingsResponse.ETagOf(found.Settings);
        return TypedResults.Ok(ConnectionSettingsResponse.From(found));
    }
}
