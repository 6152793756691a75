using Azure;
using Azure.Data.Tables;
using ThreePL.Functions.Infrastructure;
using ThreePL.Domain.Common;

namespace ThreePL.Functions.Webhooks;

/// <summary>An account-wide endpoint. <see cref="EventTypes"/> empty means every public event type.</summary>
public sealed record WebhookEndpoint(
    string Id, AccountId AccountId, string Url, string Secret, IReadOnlyList<string> EventTypes, string? Description, DateTimeOffset CreatedAt)
{
    /// <summary>Exact types, or a <c>prefix.*</c> wildcard (<c>order.*</c>).</summary>
    public bool Accepts(string type) => EventTypes.Count == 0 || EventTypes.Any(f =>
        f == type || (f.EndsWith(".*", StringComparison.Ordinal) && type.StartsWith(f[..^1], StringComparison.Ordinal)));
}

/// <summary>Partition <c>account|{accountId}</c> of <see cref="WebhookTable"/>, RowKey <c>endpoint|{endpointId}</c>: an account's endpoints, one query for fan-out.</summary>
public sealed class WebhookEndpointStore(WebhookTable table)
{
    private TableClient Table => table.Client;

    private static string AccountPartition(AccountId account) => $"account|{account.Value}";

    public async Task AddEndpointAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken) =>
        await Table.AddEntityAsync(new TableEntity(AccountPartition(endpoint.AccountId), "endpoint|" + endpoint.Id)
        {
            ["Url"] = endpoint.Url,
            ["Secret"] = endpoint.Secret,
            ["EventTypes"] = string.Join(',', endpoint.EventTypes),
            ["Description"] = endpoint.Description,
            ["CreatedAt"] = endpoint.CreatedAt,
        }, cancellationToken).ConfigureAwait(false);

    public async Task<WebhookEndpoint?> GetEndpointAsync(AccountId account, string endpointId, CancellationToken cancellationToken)
    {
        var row = await Table.FindAsync(AccountPartition(account), "endpoint|" + endpointId, cancellationToken).ConfigureAwait(false);
        return row is null ? null : EndpointFrom(row);
    }

    public async Task<IReadOnlyList<WebhookEndpoint>> ListEndpointsAsync(AccountId account, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {AccountPartition(account)} and RowKey ge {"endpoint|"} and RowKey lt {"endpoint}"}");
        var list = new List<WebhookEndpoint>();
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            list.Add(EndpointFrom(row));
        }
        return list;
    }

    public async Task<bool> DeleteEndpointAsync(AccountId account, string endpointId, CancellationToken cancellationToken)
    {
        var response = await Table.DeleteEntityAsync(AccountPartition(account), "endpoint|" + endpointId, ETag.All, cancellationToken).ConfigureAwait(false);
        return response.Status != StatusCodes.Status404NotFound;
    }

    private static WebhookEndpoint EndpointFrom(TableEntity row) => new(
        row.RowKey["endpoint|".Length..],
        AccountId.Parse(row.PartitionKey["account|".Length..]),
        row.GetString("Url")!,
        row.GetString("Secret")!,
        (row.GetString("EventTypes") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries),
        row.GetString("Description"),
        row.GetDateTimeOffset("CreatedAt")!.Value);
}
