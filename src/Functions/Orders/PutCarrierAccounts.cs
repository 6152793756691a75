using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Orders;

public sealed record PutCarrierAccountsRequest(IReadOnlyList<CarrierAccountRequest?>? Accounts);

public sealed record CarrierAccountRequest(string? Carrier, IReadOnlyList<string?>? Services);

public sealed record CarrierAccountsResponse(IReadOnlyList<CarrierAccount> Accounts);

/// <summary>
/// Either party replaces the carrier accounts of its own account. They matter where that account owns the
/// shipping rules of a connection: an order whose shipping service none of them offers is not delegated.
/// An empty list means "no carrier accounts configured", which refuses nothing.
/// </summary>
public sealed class PutCarrierAccounts(RoutingStore store)
{
    public const int MaxAccounts = 50;
    public const int MaxServices = 100;
    public const int MaxLength = 100;

    public async Task<Results<Ok<CarrierAccountsResponse>, ProblemHttpResult>> HandleAsync(Caller caller, PutCarrierAccountsRequest request, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var accounts = request.Accounts;
        if (accounts is null)
        {
            errors.Add("accounts", "This field is required.");
        }
        else if (accounts.Count > MaxAccounts)
        {
            errors.Add("accounts", $"At most {MaxAccounts} carrier accounts are allowed.");
        }
        var clean = new List<CarrierAccount>();
        for (var i = 0; errors.IsEmpty && i < accounts!.Count; i++)
        {
            var path = $"accounts[{i}]";
            if (accounts[i] is not { } account)
            {
                errors.Add(path, "Must not be null.");
                continue;
            }
            var carrier = errors.Text(path + ".carrier", account.Carrier, MaxLength);
            var services = account.Services ?? [];
            if (services.Count is 0 or > MaxServices)
            {
                errors.Add(path + ".services", $"Give 1 to {MaxServices} services.");
                continue;
            }
            var list = new List<string>();
            for (var s = 0; s < services.Count; s++)
            {
                if (errors.Text($"{path}.services[{s}]", services[s], MaxLength) is { } service)
                {
                    list.Add(service);
                }
            }
            clean.Add(new CarrierAccount(carrier ?? "", list));
        }
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }
        await store.SaveCarrierAccountsAsync(caller.AccountId, clean, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new CarrierAccountsResponse(clean));
    }
}
