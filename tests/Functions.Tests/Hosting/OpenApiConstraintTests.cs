using System.Text.Json.Nodes;
using ThreePL.Domain.Accounts;
using ThreePL.Domain.Connections;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Accounts;
using ThreePL.Functions.ApiKeys;
using ThreePL.Functions.ConnectPages;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Http;
using ThreePL.Functions.Inventory;
using ThreePL.Functions.Orders;
using ThreePL.Functions.SupportTickets;
using ThreePL.Functions.Webhooks;

namespace ThreePL.Functions.Tests.Hosting;

/// <summary>
/// The limits the OpenAPI document declares are the constants the validators use: one row per limit, from a JSON
/// pointer into the committed document to the constant, so a changed limit fails here until the contract says it too.
/// </summary>
public sealed class OpenApiConstraintTests
{
    private const string Schemas = "/components/schemas/";

    public static TheoryData<string, long> Limits => new()
    {
        { Schemas + "CreateAccountRequest/properties/name/maxLength", CreateAccount.MaxNameLength },
        { Schemas + "CreateAccountRequest/properties/email/maxLength", EmailAddress.MaxLength },
        { Schemas + "CreateApiKeyRequest/properties/name/maxLength", CreateApiKey.MaxNameLength },
        { Schemas + "CreateApiKeyRequest/properties/permissions/maxItems", CreateApiKey.MaxPermissions },
        { Schemas + "InviteConnectionRequest/properties/email/maxLength", EmailAddress.MaxLength },
        { Schemas + "InviteConnectionRequest/properties/clientName/maxLength", InviteConnection.MaxClientNameLength },
        { Schemas + "InviteConnectionRequest/properties/companyName/maxLength", InviteConnection.MaxCompanyNameLength },
        { Schemas + "UpdateConnectionSettingsRequest/properties/internalCustomerId/maxLength", ConnectionSettings.InternalCustomerIdMaxLength },
        { Schemas + "UpdateConnectionSettingsRequest/properties/webhookUrl/maxLength", ConnectionSettings.WebhookUrlMaxLength },
        { Schemas + "UpdateConnectionSettingsRequest/properties/acceptWithin/maxLength", ConnectionSettings.AcceptWithinMaxLength },
        { Schemas + "BrandContact/properties/email/maxLength", EmailAddress.MaxLength },
        { Schemas + "SubmitOrderRequest/properties/externalId/maxLength", OrderDraft.ExternalIdMaxLength },
        { Schemas + "SubmitOrderRequest/properties/lines/maxItems", OrderDraft.MaxLines },
        { Schemas + "SubmitOrderRequest/properties/shippingService/maxLength", OrderDraft.ShippingServiceMaxLength },
        { Schemas + "SubmitOrderRequest/properties/notes/maxLength", OrderDraft.NotesMaxLength },
        { Schemas + "OrderLine/properties/sku/maxLength", OrderDraft.SkuMaxLength },
        { Schemas + "OrderLine/properties/quantity/maximum", OrderDraft.MaxQuantity },
        { Schemas + "OrderLine/properties/name/maxLength", OrderDraft.LineNameMaxLength },
        { Schemas + "Address/properties/email/maxLength", EmailAddress.MaxLength },
        { Schemas + "ShipOrderRequest/properties/carrier/maxLength", Shipment.MaxLength },
        { Schemas + "ShipOrderRequest/properties/service/maxLength", Shipment.MaxLength },
        { Schemas + "ShipOrderRequest/properties/trackingNumber/maxLength", Shipment.MaxLength },
        { Schemas + "ShipOrderRequest/properties/lines/maxItems", OrderDraft.MaxLines },
        { Schemas + "ShipmentLine/properties/sku/maxLength", OrderDraft.SkuMaxLength },
        { Schemas + "ShipmentLine/properties/quantity/maximum", OrderDraft.MaxQuantity },
        { Schemas + "RejectOrderRequest/properties/message/maxLength", Rejection.MessageMaxLength },
        { Schemas + "RejectOrderRequest/properties/lines/maxItems", OrderDraft.MaxLines },
        { Schemas + "RejectionLine/properties/sku/maxLength", OrderDraft.SkuMaxLength },
        { Schemas + "RejectionLine/properties/message/maxLength", Rejection.MessageMaxLength },
        { Schemas + "PlaceHoldRequest/properties/note/maxLength", Hold.NoteMaxLength },
        { Schemas + "OrderResponse/properties/shipments/maxItems", Order.MaxShipments },
        { Schemas + "OrderResponse/properties/holds/maxItems", Order.MaxHolds },
        { Schemas + "OrderResponse/properties/rejections/maxItems", Order.MaxRejections },
        { Schemas + "PutRoutingRulesRequest/properties/rules/maxItems", PutRoutingRules.MaxRules },
        { Schemas + "RoutingRule/properties/skuPrefixes/maxItems", PutRoutingRules.MaxPrefixes },
        { Schemas + "RoutingRule/properties/connectionIds/maxItems", PutRoutingRules.MaxConnectionIds },
        { Schemas + "PutCarrierAccountsRequest/properties/accounts/maxItems", PutCarrierAccounts.MaxAccounts },
        { Schemas + "CarrierAccountRequest/properties/services/maxItems", PutCarrierAccounts.MaxServices },
        { Schemas + "CarrierAccountRequest/properties/carrier/maxLength", PutCarrierAccounts.MaxLength },
        { Schemas + "CarrierAccountRequest/properties/services/items/maxLength", PutCarrierAccounts.MaxLength },
        { Schemas + "ReportInventoryRequest/properties/items/maxItems", ReportInventory.MaxItems },
        { Schemas + "InventoryItemRequest/properties/onHand/maximum", ReportInventory.MaxOnHand },
        { Schemas + "InventoryItemRequest/properties/sku/maxLength", OrderDraft.SkuMaxLength },
        { Schemas + "OpenSupportTicketRequest/properties/subject/maxLength", SupportTicketAccess.SubjectMaxLength },
        { Schemas + "OpenSupportTicketRequest/properties/message/maxLength", SupportTicketAccess.MessageMaxLength },
        { Schemas + "AnswerSupportTicketRequest/properties/message/maxLength", SupportTicketAccess.MessageMaxLength },
        { Schemas + "CreateWebhookEndpointRequest/properties/url/maxLength", CreateWebhookEndpoint.MaxUrlLength },
        { Schemas + "CreateWebhookEndpointRequest/properties/eventTypes/maxItems", CreateWebhookEndpoint.MaxFilters },
        { Schemas + "OnboardBrandRequest/properties/priorities/maxItems", OnboardBrand.KnownPriorities.Length },
        { "/paths/~1connect~1{token}/post/requestBody/content/application~1x-www-form-urlencoded/schema/properties/name/maxLength", ConnectPage.MaxNameLength },
    };

    [Theory]
    [MemberData(nameof(Limits))]
    public void The_document_declares_the_validators_limit(string pointer, long limit) =>
        Assert.Equal(limit, Resolve(pointer)?.GetValue<long>());

    [Fact]
    public void Every_limit_parameter_and_the_body_limit_are_the_pipelines()
    {
        var parameters = Operations().SelectMany(o => o["parameters"]?.AsArray() ?? []).Where(p => (string?)p!["name"] == "limit").ToList();
        Assert.NotEmpty(parameters);
        Assert.All(parameters, p =>
        {
            Assert.Equal(Paging.MaxLimit, p!["schema"]!["maximum"]!.GetValue<int>());
            Assert.Equal(Paging.DefaultLimit, p["schema"]!["default"]!.GetValue<int>());
        });
        var tooLarge = Operations().Select(o => o["responses"]?["413"]).OfType<JsonNode>().ToList();
        Assert.NotEmpty(tooLarge);
        Assert.All(tooLarge, r => Assert.Contains($"{RequestBody.MaxBytes / 1024} KiB", (string?)r["description"], StringComparison.Ordinal));
    }

    [Fact]
    public void The_brand_enums_are_the_validators()
    {
        Assert.Equal(OnboardBrand.OrderBands, Strings(Schemas + "OnboardBrandRequest/properties/ordersPerMonth/enum"));
        Assert.Equal(OnboardBrand.KnownPriorities, Strings(Schemas + "OnboardBrandRequest/properties/priorities/items/enum"));
    }

    private static string[] Strings(string pointer) => [.. Resolve(pointer)!.AsArray().Select(n => n!.GetValue<string>())];

    private static IEnumerable<JsonNode> Operations() =>
        ApiDocumentFunctions.Load()["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject().Select(o => o.Value!));

    /// <summary>An RFC 6901 JSON pointer into the committed document.</summary>
    private static JsonNode? Resolve(string pointer)
    {
        JsonNode? node = ApiDocumentFunctions.Load();
        foreach (var token in pointer.TrimStart('/').Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)))
        {
            node = node is JsonArray array ? array[int.Parse(token, System.Globalization.CultureInfo.InvariantCulture)] : node?[token];
        }
        return node;
    }
}
