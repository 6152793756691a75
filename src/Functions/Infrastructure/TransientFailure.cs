using Azure;

namespace ThreePL.Functions.Infrastructure;

/// <summary>
/// Storage failures that say "try again later" rather than "this code is wrong": the service answered 5xx or
/// 408/429, the network failed, or a call timed out. Azure.Core reports a transport failure that outlived its
/// retries as an <see cref="AggregateException"/> of them, so that counts too when all its inner ones do.
/// </summary>
public static class TransientFailure
{
    public static bool Is(Exception exception) => exception switch
    {
        RequestFailedException { Status: 0 or 408 or 429 or >= 500 } => true,
        HttpRequestException or TimeoutException or IOException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(Is),
        _ => false,
    };
}
