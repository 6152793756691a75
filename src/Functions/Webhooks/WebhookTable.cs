using Azure.Data.Tables;
using ThreePL.Domain.Common;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Webhooks;

/// <summary>
/// Table <c>webhooks</c>, shared by three stores, each owning its partitions:
/// <see cref="WebhookEndpointStore"/> (<c>account|{accountId}</c>), <see cref="DestinationHealthStore"/>
/// (<c>health|{destination}</c>) and, for deliveries written before December 2026, <see cref="WebhookDeliveryStore"/>
/// (<c>{deliveryId}</c> and <c>deliveries|{ownerAccountId}</c>; newer deliveries live in table <c>events</c>).
/// </summary>
public sealed class WebhookTable(TableServiceClient tables, StorageNames names)
{
    public const string TableName = "webhooks";

    public TableClient Client => tables.GetTableClient(names.Table(TableName));

    public static bool IsEndpointId(string? value) => Identifier.IsValid("ep", value);

    public static bool IsDeliveryId(string? value) => Identifier.IsValid("dlv", value);
}
