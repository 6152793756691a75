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
        { Schemas + "Address/properties/name/maxLength", Address.NameMaxLength },
        { Schemas + "Address/properties/line1/maxLength", Address.LineMaxLength },
        { Schemas + "Address/properties/line2/maxLength", Address.LineMaxLength },
        { Schemas + "Address/properties/city/maxLength", Address.CityMaxLength },
        { Schemas + "Address/properties/postalCode/maxLength", Address.PostalCodeMaxLength },
        { Schemas + "Address/properties/region/maxLength", Address.RegionMaxLength },
        { Schemas + "Address/properties/phone/maxLength", Address.PhoneMaxLength },
        { Schemas + "BrandContact/properties/name/maxLength", OnboardBrand.ContactNameMaxLength },
        { Schemas + "BrandContact/properties/phone/maxLength", Address.PhoneMaxLength },
        { Schemas + "BrandCompany/properties/name/maxLength", OnboardBrand.CompanyNameMaxLength },
        { Schemas + "BrandCompany/properties/shopUrl/maxLength", OnboardBrand.ShopUrlMaxLength },
        { Schemas + "BrandWarehouse/properties/name/maxLength", Address.NameMaxLength },
        { Schemas + "BrandAddress/properties/line1/maxLength", Address.LineMaxLength },
        { Schemas + "BrandAddress/properties/line2/maxLength", Address.LineMaxLength },
        { Schemas + "BrandAddress/properties/city/maxLength", Address.CityMaxLength },
        { Schemas + "BrandAddress/properties/postalCode/maxLength", Address.PostalCodeMaxLength },
        { Schemas + "BrandAddress/properties/region/maxLength", Address.RegionMaxLength },
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
        { Schemas + "CreateWebhookEndpointRequest/properties/description/maxLength", CreateWebhookEndpoint.MaxDescriptionLength },
        { Schemas + "OnboardBrandRequest/properties/priorities/maxItems", OnboardBrand.KnownPriorities.Length },
        { "/paths/~1connect~1{token}/post/requestBody/content/application~1x-www-form-urlencoded/schema/properties/name/maxLength", ConnectPage.MaxNameLength },
    };

    [Theory]
    [MemberData(nameof(Limits))]
    public void The_document_declares_the_validators_limit(string pointer, long limit) =>
        Assert.Equal(limit, Resolve(pointer)?.GetValue<long>());

    /// <summary>No upper limit of a schema goes untied: each <c>maxLength</c>, <c>maxItems</c> and <c>maximum</c> has a row in <see cref="Limits"/>.</summary>
    [Fact]
    public void Every_upper_limit_of_the_schemas_has_a_row()
    {
        var tied = Limits.Select(row => (string)row[0]).ToHashSet(StringComparer.Ordinal);
        // The HTTP status of a problem is bounded by HTTP itself, not by a validator.
        tied.Add(Schemas + "Problem/properties/status/maximum");
        var untied = new List<string>();
        foreach (var (name, schema) in ApiDocumentFunctions.Load()["components"]!["schemas"]!.AsObject())
        {
            CollectKeys(schema, Schemas + name, ["maxLength", "maxItems", "maximum"], untied, tied);
        }
        Assert.True(untied.Count == 0, "Limits with no row tying them to a constant: " + string.Join(", ", untied));
    }

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

    private static readonly string[] Parties = [PartyNames.ThreePl, PartyNames.Merchant];

    /// <summary>Every enum of the document, from a JSON pointer to the list the code validates against or writes (order ignored).</summary>
    public static TheoryData<string, string[]> Enums => new()
    {
        { Schemas + "CreateApiKeyRequest/properties/permissions/items/enum", [.. PermissionSet.Known, PermissionSet.All] },
        { Schemas + "AccountResponse/properties/kind/enum", [.. Enum.GetValues<AccountKind>().Select(AccountKindNames.ToWire)] },
        { Schemas + "CreateAccountRequest/properties/kind/enum", [.. Enum.GetValues<AccountKind>().Select(AccountKindNames.ToWire)] },
        { Schemas + "CreatedAccountResponse/properties/kind/enum", [.. Enum.GetValues<AccountKind>().Select(AccountKindNames.ToWire)] },
        { Schemas + "ConnectionResponse/properties/status/enum", [.. ConnectionStatusNames.All] },
        { Schemas + "ConnectionResponse/properties/invitedBy/enum", Parties },
        { Schemas + "ConnectionSettingsResponse/properties/shippingRules/enum", Parties },
        { Schemas + "ConnectionSettingsResponse/properties/orderFeeBilledTo/enum", Parties },
        { Schemas + "ConnectionSettingsResponse/properties/supportTickets/enum", Parties },
        { Schemas + "UsageLineResponse/properties/billedTo/enum", Parties },
        { Schemas + "HoldResponse/properties/placedBy/enum", Parties },
        { Schemas + "OrderResponse/properties/status/enum", [.. OrderStatusNames.All] },
        { Schemas + "RoutingRule/properties/type/enum", [RoutingRule.SkuPrefix, RoutingRule.StocksEveryLine] },
        { Schemas + "FulfillmentRequestResponse/properties/status/enum", [FulfillmentRequestResponse.Pending, FulfillmentRequestResponse.Accepted] },
        { Schemas + "HoldResponse/properties/reason/enum", [.. FulfilmentNames.HoldReasons] },
        { Schemas + "PlaceHoldRequest/properties/reason/enum", [.. FulfilmentNames.HoldReasons] },
        { Schemas + "RejectionResponse/properties/reason/enum", [.. FulfilmentNames.RejectionReasons] },
        { Schemas + "RejectOrderRequest/properties/reason/enum", [.. FulfilmentNames.RejectionReasons] },
    };

    [Theory]
    [MemberData(nameof(Enums))]
    public void The_document_enum_is_the_codes_list(string pointer, string[] values) =>
        Assert.Equal(values.Order(StringComparer.Ordinal), Strings(pointer).Order(StringComparer.Ordinal));

    /// <summary>The settings PATCH takes the owner enums and <c>null</c> (keep).</summary>
    [Fact]
    public void The_settings_owner_enums_are_the_parties_and_null()
    {
        foreach (var field in new[] { "shippingRules", "orderFeeBilledTo", "supportTickets" })
        {
            var values = Resolve(Schemas + $"UpdateConnectionSettingsRequest/properties/{field}/enum")!.AsArray();
            Assert.Equal(Parties, values.Where(v => v is not null).Select(v => v!.GetValue<string>()));
            Assert.Contains(values, v => v is null);
        }
    }

    /// <summary>No enum of the document goes untied: every schema enum outside problem codes has a row in <see cref="Enums"/>.</summary>
    [Fact]
    public void Every_enum_of_the_document_has_a_row()
    {
        var tied = Enums.Select(row => (string)row[0]).ToHashSet(StringComparer.Ordinal);
        tied.UnionWith(new[] { "OnboardBrandRequest/properties/ordersPerMonth/enum", "OnboardBrandRequest/properties/priorities/items/enum" }.Select(p => Schemas + p));
        tied.UnionWith(new[] { "shippingRules", "orderFeeBilledTo", "supportTickets" }.Select(f => Schemas + $"UpdateConnectionSettingsRequest/properties/{f}/enum"));
        var untied = new List<string>();
        foreach (var (name, schema) in ApiDocumentFunctions.Load()["components"]!["schemas"]!.AsObject())
        {
            CollectKeys(schema, Schemas + name, ["enum"], untied, tied);
        }
        Assert.True(untied.Count == 0, "Enums with no row tying them to code: " + string.Join(", ", untied));
    }

    /// <summary>Pointers below <paramref name="at"/> to any of <paramref name="keys"/> not in <paramref name="tied"/> (problem codes aside).</summary>
    private static void CollectKeys(JsonNode? node, string at, string[] keys, List<string> untied, HashSet<string> tied)
    {
        if (node is JsonObject obj)
        {
            foreach (var (key, child) in obj)
            {
                var path = at + "/" + key;
                if (keys.Contains(key) && !at.EndsWith("/code", StringComparison.Ordinal) && !tied.Contains(path))
                {
                    untied.Add(path);
                }
                CollectKeys(child, path, keys, untied, tied);
            }
        }
        else if (node is JsonArray array)
        {
            for (var i = 0; i < array.Count; i++)
            {
                CollectKeys(array[i], at + "/" + i, keys, untied, tied);
            }
        }
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
