using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Accounts;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Accounts;
using ThreePL.Functions.Http;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Connections;

public sealed record BrandContact(string? Name, string? Email, string? Phone);

public sealed record BrandCompany(string? Name, string? ShopUrl);

public sealed record BrandAddress(string? Line1, string? Line2, string? City, string? PostalCode, string? Region, string? CountryCode);

public sealed record BrandWarehouse(string? Name, BrandAddress? Address);

public sealed record OnboardBrandRequest(BrandContact? Contact, BrandCompany? Company, BrandWarehouse? Warehouse, string? OrdersPerMonth, List<string?>? Priorities);

public sealed record OnboardBrandResponse(ConnectionResponse Connection, string MerchantAccountId, string LoginLink);

/// <summary>
/// Outvio's "Add brand": the 3PL enters the brand's data; we create a merchant account that is not yet
/// activated and a pending connection, and hand back the login link to share. The brand opens it, approves
/// (which activates the account and shows its first API key once), and the connection is active.
/// </summary>
public sealed class OnboardBrand(AccountStore accounts, InviteConnection invitations, ConnectTokens tokens, UnconnectableInvitee unconnectable, ConnectionOptions options, TimeProvider time)
{
    public static readonly string[] OrderBands = ["0-100", "100-500", "500-2000", "2000-10000", "10000+"];
    public static readonly string[] KnownPriorities = ["speed", "cost", "quality", "sustainability"];
    public const int ContactNameMaxLength = 100;
    public const int CompanyNameMaxLength = 200;
    public const int ShopUrlMaxLength = 2048;

    public async Task<Results<Created<OnboardBrandResponse>, ProblemHttpResult>> HandleAsync(Caller caller, OnboardBrandRequest request, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var answer = await OnboardAsync(caller, request, cancellationToken).ConfigureAwait(false);
        await options.HoldAnswerAsync(time, started, cancellationToken).ConfigureAwait(false);
        return answer;
    }

    private async Task<Results<Created<OnboardBrandResponse>, ProblemHttpResult>> OnboardAsync(Caller caller, OnboardBrandRequest request, CancellationToken cancellationToken)
    {
        if (caller.Kind != AccountKind.ThreePl)
        {
            return Problems.Forbidden("threepl_only", "Only a 3PL account onboards brands.");
        }
        var errors = new FieldErrors();
        var contactName = errors.Text("contact.name", request.Contact?.Name, ContactNameMaxLength);
        if (!EmailAddress.TryParse(request.Contact?.Email, out var email))
        {
            errors.Add("contact.email", "Must be a valid e-mail address.");
        }
        var phone = errors.Text("contact.phone", request.Contact?.Phone, Address.PhoneMaxLength, required: false);
        var companyName = errors.Text("company.name", request.Company?.Name, CompanyNameMaxLength);
        var shopUrl = errors.Text("company.shopUrl", request.Company?.ShopUrl, ShopUrlMaxLength);
        if (shopUrl is { Length: > 0 } && (!Uri.TryCreate(shopUrl, UriKind.Absolute, out var shop) || (shop.Scheme != Uri.UriSchemeHttps && shop.Scheme != Uri.UriSchemeHttp)))
        {
            errors.Add("company.shopUrl", "Must be an absolute http(s) URL.");
        }
        var warehouseName = errors.Text("warehouse.name", request.Warehouse?.Name, Address.NameMaxLength);
        var address = request.Warehouse?.Address;
        errors.Text("warehouse.address.line1", address?.Line1, Address.LineMaxLength);
        errors.Text("warehouse.address.line2", address?.Line2, Address.LineMaxLength, required: false);
        errors.Text("warehouse.address.city", address?.City, Address.CityMaxLength);
        errors.Text("warehouse.address.postalCode", address?.PostalCode, Address.PostalCodeMaxLength);
        errors.Text("warehouse.address.region", address?.Region, Address.RegionMaxLength, required: false);
        if (address?.CountryCode is not { } country || !CountryCodes.IsAssigned(country.ToUpperInvariant()))
        {
            errors.Add("warehouse.address.countryCode", "Must be an ISO 3166-1 alpha-2 country code.");
        }
        if (request.OrdersPerMonth is null || !OrderBands.Contains(request.OrdersPerMonth))
        {
            errors.Add("ordersPerMonth", $"Must be one of: {string.Join(", ", OrderBands)}.");
        }
        var priorities = request.Priorities ?? [];
        if (priorities.Count > KnownPriorities.Length || priorities.Any(p => p is null || !KnownPriorities.Contains(p)) || priorities.Distinct().Count() != priorities.Count)
        {
            errors.Add("priorities", $"Each must be one of: {string.Join(", ", KnownPriorities)}, at most once.");
        }
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var profile = JsonSerializer.Serialize(new
        {
            contact = new { name = contactName, email = email.Value, phone },
            company = new { name = companyName, shopUrl },
            warehouse = new { name = warehouseName, address = address! with { CountryCode = address.CountryCode!.ToUpperInvariant() } },
            ordersPerMonth = request.OrdersPerMonth,
            priorities,
        }, EventEnvelope.Json);
        var now = time.GetUtcNow();
        var brand = new Account(AccountId.New(), AccountKind.Merchant, companyName!, email, Activated: false, now) { Profile = profile };
        var invitee = brand.Id;
        if (!await accounts.TryCreateAsync(brand, null, cancellationToken).ConfigureAwait(false))
        {
            // The address has an account: the answer must not say so. The account is invited as it is (nothing the 3PL
            // typed reaches it), or, when it cannot be the counterpart, a stand-in is (UnconnectableInvitee); its owner
            // learns which from the e-mail the invitation sends.
            var existing = await accounts.FindByEmailAsync(email, cancellationToken).ConfigureAwait(false);
            invitee = existing is { Kind: AccountKind.Merchant } ? existing.Id : unconnectable.StandIn(caller.AccountId, email);
        }
        var (connection, invited) = Connection.Invite(ConnectionId.New(), caller.AccountId, invitee, Party.ThreePl, email.Value, clientName: companyName, companyName: null, now, options.InvitationTtl, options.InvitationReminderAfter);
        var (stored, conflict) = await invitations.CreateAsync(connection, invited, ConnectionAccess.Actor(caller), cancellationToken).ConfigureAwait(false);
        if (conflict is not null)
        {
            return InviteConnection.ConflictProblem(conflict);
        }
        var response = new OnboardBrandResponse(ConnectionResponse.For(stored!, caller.AccountId), invitee.Value, options.ConnectLink(tokens.CreateShared(connection.Id)));
        return TypedResults.Created($"/v1/connections/{connection.Id}", response);
    }
}
