using Azure.Core;
using Azure.Core.Pipeline;

namespace ThreePL.Functions.Storage;

/// <summary>
/// Pipeline options for the table and queue clients. Extra policies (for example one that counts storage calls
/// per request) go in through <see cref="ClientOptions.AddPolicy"/>.
/// </summary>
public sealed class StorageClientOptions : ClientOptions
{
    // One handler for every client: connections are pooled per handler, and a handler per client leaks sockets.
    private static readonly HttpClientTransport s_sharedTransport = new(new SocketsHttpHandler
    {
        // Azurite drops idle keep-alive connections after 5 s; retiring ours sooner avoids sending on a closing socket.
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(3),
    });

    public StorageClientOptions()
    {
        Transport = s_sharedTransport;

        // Azurite's queue garbage collection stalls the whole process for 20-36 s; a short timeout turns that
        // into retries of requests that may already have succeeded.
        Retry.NetworkTimeout = TimeSpan.FromSeconds(120);

        Diagnostics.LoggedHeaderNames.Add("x-ms-error-code");
        Diagnostics.LoggedHeaderNames.Add("x-ms-request-id");
        Diagnostics.LoggedHeaderNames.Add("x-ms-version");
        Diagnostics.LoggedHeaderNames.Add("x-ms-approximate-messages-count");
        Diagnostics.LoggedHeaderNames.Add("x-ms-continuation-NextPartitionKey");
        Diagnostics.LoggedHeaderNames.Add("x-ms-continuation-NextRowKey");
        Diagnostics.LoggedQueryParameters.Add("visibilitytimeout");
        Diagnostics.LoggedQueryParameters.Add("messagettl");
        Diagnostics.LoggedQueryParameters.Add("numofmessages");
        Diagnostics.LoggedQueryParameters.Add("comp");
    }
}
