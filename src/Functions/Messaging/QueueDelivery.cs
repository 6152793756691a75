using Azure.Storage.Queues.Models;
using ThreePL.Functions.Billing;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Orders;
using ThreePL.Functions.Webhooks;

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
    /// their queues apart (<c>ThreePL:Storage:Prefix</c>; empty in a deployment of its own).
    /// </summary>
    public const string Prefix = "%ThreePL:Storage:Prefix%";

    public const string Connection = "AzureWebJobsStorage";

    /// <summary>The base names of every queue a function reads; the layout creates them and their poison queues.</summary>
    public static readonly IReadOnlyList<string> TriggeredQueues =
    [
        Outbox.RelayQueue, EventEnvelope.Queue, OrderMessages.RoutingQueue, OrderMessages.HandbackQueue,
        DeliveryMessage.Queue, RecordUsageMessage.Queue, ConnectionMessages.WorkflowQueue, RequestDeadlineMessage.Queue,
    ];
}
