using Azure.Data.Tables;
using ThreePL.Domain.Accounts;
using ThreePL.Domain.Common;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Messaging;

/// <summary>
/// Where some rows of an account's catch-up feed (<c>GET /v1/events</c>) are kept: a partition with a prefix for the
/// account's rows and one per connection for a key scoped to it. Table <c>events</c> holds every account's feed; a
/// feature may keep an account's rows of its own events in a partition of its own table instead, committed in the
/// same transaction as the change they record (<see cref="ICommittedFeedShelves"/>).
/// </summary>
public sealed record FeedShelf(TableClient Table, string Partition, string AccountPrefix, string ConnectionPrefixStart)
{
    public string ConnectionPrefix(string connectionId) => ConnectionPrefixStart + connectionId + "|";

    /// <summary>
    /// The rows that record <paramref name="envelope"/> for <paramref name="account"/> here, keyed at <paramref name="keyTime"/>
    /// (<see cref="TimeKeyedFeed"/>), each with the data as its reader sees it.
    /// </summary>
    public List<TableEntity> Rows(EventEnvelope envelope, AccountId account, EventViews views, DateTimeOffset keyTime)
    {
        // The connection's row is what a key scoped to it reads, so it holds the data as that connection sees it.
        var keys = new List<(string Key, System.Text.Json.JsonElement Data)>
        {
            (TimeKeyedFeed.RowKey(AccountPrefix, keyTime, envelope.Id), views.DataFor(envelope, account, confinedToConnection: false)),
        };
        if (envelope.ConnectionId is { } connectionId)
        {
            keys.Add((TimeKeyedFeed.RowKey(ConnectionPrefix(connectionId), keyTime, envelope.Id), views.DataFor(envelope, account, confinedToConnection: true)));
        }
        return keys.Select(entry =>
        {
            var row = new TableEntity(Partition, entry.Key)
            {
                ["EventId"] = envelope.Id,
                ["Type"] = envelope.Type,
                ["CreatedAt"] = envelope.CreatedAt,
                ["ConnectionId"] = envelope.ConnectionId,
            };
            LongText.Write(row, "Data", entry.Data.GetRawText());
            return row;
        }).ToList();
    }
}

/// <summary>
/// The shelves outside table <c>events</c> that may hold an account's catch-up rows (<see cref="FeedShelf"/>); the feed's
/// reader merges them with the account's partition of <c>events</c> in key order.
/// </summary>
public interface ICommittedFeedShelves
{
    /// <summary>The account's shelf in this feature's table, or null when it keeps none for accounts of this kind.</summary>
    FeedShelf? For(AccountId account, AccountKind kind);
}
