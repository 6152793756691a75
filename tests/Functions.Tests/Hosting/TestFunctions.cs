using System.Collections.Concurrent;
using ThreePL.Functions.Hosting;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Storage.Tables;

namespace ThreePL.Functions.Tests.Hosting;

/// <summary>Always fails, counting its attempts per message.</summary>
public sealed class AlwaysFailingFunction : IQueueFunction
{
    public ConcurrentDictionary<string, int> Attempts { get; } = new();

    public string Name => "AlwaysFails";

    public string QueueName => "alwaysfails";

    public Task RunAsync(QueueTrigger trigger, CancellationToken cancellationToken)
    {
        Attempts.AddOrUpdate(trigger.MessageText, 1, (_, n) => n + 1);
        throw new InvalidOperationException("This function always fails.");
    }
}

/// <summary>Stores the upper-cased message text in a table: an observable effect to compare across hosts.</summary>
public sealed class UppercaseFunction(TableServiceClient tables, StorageNames names) : IQueueFunction
{
    public const string Table = "uppercase";

    public string Name => "Uppercase";

    public string QueueName => "uppercase";

    public async Task RunAsync(QueueTrigger trigger, CancellationToken cancellationToken)
    {
        var table = tables.GetTableClient(names.Table(Table));
        await table.CreateIfNotExistsAsync(cancellationToken);
        await table.UpsertEntityAsync(new TableEntity("results", trigger.MessageText) { ["Upper"] = trigger.MessageText.ToUpperInvariant() }, cancellationToken: cancellationToken);
    }
}
