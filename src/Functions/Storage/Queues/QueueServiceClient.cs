using Azure.Core.Pipeline;

namespace ThreePL.Functions.Storage.Queues;

/// <summary>Entry point to an account's queues; create once and share, since it owns the HTTP pipeline.</summary>
public sealed class QueueServiceClient
{
    private readonly StorageAccount _account;
    private readonly HttpPipeline _pipeline;

    public QueueServiceClient(StorageAccount account, StorageClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(account);
        _account = account;
        _pipeline = account.CreatePipeline(StorageService.Queue, options);
    }

    /// <exception cref="ArgumentException">The name is not 3-63 lower-case letters, digits and single inner dashes.</exception>
    public QueueClient GetQueueClient(string queueName)
    {
        ValidateQueueName(queueName);
        return new QueueClient(_account.QueueEndpoint, _pipeline, queueName);
    }

    internal static void ValidateQueueName(string queueName)
    {
        ArgumentNullException.ThrowIfNull(queueName);
        var valid = queueName.Length is >= 3 and <= 63
            && queueName.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
            && queueName[0] != '-'
            && queueName[^1] != '-'
            && !queueName.Contains("--", StringComparison.Ordinal);
        if (!valid)
        {
            throw new ArgumentException(
                $"Queue name '{queueName}' must be 3-63 lower-case letters, digits and dashes, without leading, trailing or double dashes.",
                nameof(queueName));
        }
    }
}
