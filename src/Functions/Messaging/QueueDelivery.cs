using Azure.Storage.Queues.Models;

namespace ThreePL.Functions.Messaging;

/// <summary>
/// A queue message as a queue function's handler sees it. Throwing means "try again later": after
/// <c>maxDequeueCount</c> failures the host moves the message to <c>{queue}-poison</c>, so every handler
/// must be idempotent.
/// </summary>
public sealed record QueueDelivery(string MessageText, string MessageId, long DequeueCount, DateTimeOffset? InsertedOn)
{
    public static QueueDelivery From(QueueMessage message) =>
        new(message.Body.ToString(), message.MessageId, message.DequeueCount, message.InsertedOn);
}

/// <summary>What every <c>[QueueTrigger]</c> of the app binds to.</summary>
public static class QueueBinding
{
    /// <summary>
    /// Resolved from configuration by both hosts, so deployments or test runs sharing a storage account keep
    /// their queues apart (<c>ThreePL:Storage:Prefix</c>). The setting must exist: the Functions host fails to index a
    /// trigger whose <c>%name%</c> resolves to nothing. Bicep sets a value; the local sample sets it empty.
    /// </summary>
    public const string Prefix = "%ThreePL:Storage:Prefix%";

    public const string Connection = "AzureWebJobsStorage";
}
