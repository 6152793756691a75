using Azure.Data.Tables;

namespace ThreePL.Functions.Infrastructure;

/// <summary>The entity-group transaction rules Azure enforces and Azurite does not.</summary>
public static class TransactionGuard
{
    public const int MaxActions = 100;

    /// <exception cref="ArgumentException">Empty, over 100 actions, several partitions or a repeated RowKey.</exception>
    public static void Check(IReadOnlyCollection<TableTransactionAction> actions)
    {
        ArgumentNullException.ThrowIfNull(actions);
        if (actions.Count is 0 or > MaxActions)
        {
            throw new ArgumentException($"A transaction holds 1-{MaxActions} actions, not {actions.Count}.", nameof(actions));
        }
        var partitions = actions.Select(a => a.Entity.PartitionKey).Distinct(StringComparer.Ordinal).Count();
        if (partitions > 1)
        {
            throw new ArgumentException($"A transaction acts on one partition; these actions name {partitions}.", nameof(actions));
        }
        var repeated = actions.GroupBy(a => a.Entity.RowKey, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null)
        {
            throw new ArgumentException($"A transaction acts on each row once; RowKey '{repeated.Key}' appears {repeated.Count()} times.", nameof(actions));
        }
    }
}
