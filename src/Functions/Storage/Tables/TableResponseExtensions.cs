using Azure;

namespace ThreePL.Functions.Storage.Tables;

public static class TableResponseExtensions
{
    /// <summary>The entity's new version from a write response; pass it as <c>ifMatch</c> on the next write.</summary>
    /// <exception cref="InvalidOperationException">The response carries no ETag (a delete, or a 404 from one).</exception>
    public static ETag GetETag(this Response response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.Headers.ETag ?? throw new InvalidOperationException($"The {response.Status} response carries no ETag.");
    }
}
