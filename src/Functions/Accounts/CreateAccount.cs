using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Accounts;
using ThreePL.Domain.Common;
using ThreePL.Functions.ApiKeys;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Accounts;

public sealed record CreateAccountRequest(string? Kind, string? Name, string? Email);

public sealed record CreatedAccountResponse(string Id, string Kind, string Name, string Email, bool Activated, DateTimeOffset CreatedAt, string ApiKey);

/// <summary>The operator creates an activated account with a first <c>*</c> key, shown once.</summary>
public sealed class CreateAccount(AccountStore accounts, TimeProvider time)
{
    public const int MaxNameLength = 200;

    public async Task<Results<Created<CreatedAccountResponse>, ProblemHttpResult>> HandleAsync(CreateAccountRequest request, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        if (!AccountKindNames.TryParse(request.Kind, out var kind))
        {
            errors.Add("kind", "Must be 'merchant' or 'threepl'.");
        }
        var name = errors.Text("name", request.Name, MaxNameLength);
        if (!EmailAddress.TryParse(request.Email, out var email))
        {
            errors.Add("email", "Must be a valid e-mail address.");
        }
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }
        var now = time.GetUtcNow();
        var account = new Account(AccountId.New(), kind, name!, email, Activated: true, now);
        var keyId = ApiKeyId.New();
        var (token, hash) = ApiKeySecret.Create(account.Id, keyId);
        var key = new ApiKeyRecord(account.Id, keyId, kind, "default", PermissionSet.Everything, null, hash, true, now, null);
        if (!await accounts.TryCreateAsync(account, key, cancellationToken).ConfigureAwait(false))
        {
            return Problems.Conflict("account_email_taken", $"An account with the e-mail '{email}' already exists.");
        }
        var response = new CreatedAccountResponse(account.Id.Value, AccountKindNames.ToWire(kind), account.Name, email.Value, true, now, token);
        return TypedResults.Created($"/v1/account", response);
    }
}
