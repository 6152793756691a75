using Azure;
using Azure.Data.Tables;
using ThreePL.Domain.Accounts;
using ThreePL.Domain.Common;
using ThreePL.Functions.ApiKeys;
using ThreePL.Functions.Audit;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Accounts;

/// <summary>
/// Table <c>accounts</c>. An account and its API keys share one partition (PartitionKey = account id;
/// RowKey <c>account</c> for the account, <c>key|{keyId}</c> for each key), so an account is created
/// together with its first key in one transaction. E-mail uniqueness is an index row in partition
/// <c>email|{escaped address}</c>, written before the account: a crash between the two leaves an index row
/// pointing at no account, which a later claim of that address takes over once it is older than
/// <see cref="OrphanClaimAge"/> (a younger one may be a creation still in flight).
/// </summary>
public sealed class AccountStore(TableServiceClient tables, StorageNames names, TimeProvider time)
{
    public const string TableName = "accounts";
    public const string AccountRowKey = "account";
    public const string EmailRowKey = "email";

    public static readonly TimeSpan OrphanClaimAge = TimeSpan.FromMinutes(2);

    public TableClient Table => tables.GetTableClient(names.Table(TableName));

    public static string EmailPartition(EmailAddress email) => "email|" + Uri.EscapeDataString(email.Value);

    public async Task<Account?> GetAsync(AccountId id, CancellationToken cancellationToken = default)
    {
        var entity = await Table.FindAsync(id.Value, AccountRowKey, cancellationToken).ConfigureAwait(false);
        return entity is null ? null : ToAccount(entity);
    }

    public async Task<(Account Account, ETag ETag)?> GetWithETagAsync(AccountId id, CancellationToken cancellationToken = default)
    {
        var entity = await Table.FindAsync(id.Value, AccountRowKey, cancellationToken).ConfigureAwait(false);
        return entity is null ? null : (ToAccount(entity), entity.ETag);
    }

    /// <summary>
    /// The owner takes over an account created on their behalf: it becomes activated under the name they
    /// chose, together with its first key, in one transaction. False when it was activated meanwhile.
    /// </summary>
    public async Task<bool> TryActivateAsync(Account account, ETag etag, ApiKeyRecord firstKey, AuditRecord audit, CancellationToken cancellationToken = default)
    {
        try
        {
            await Table.CommitAsync(
            [
                new TableTransactionAction(TableTransactionActionType.UpdateMerge, ToEntity(account with { Activated = true }), etag),
                new TableTransactionAction(TableTransactionActionType.Add, ApiKeyStore.ToEntity(firstKey)),
                audit.ToAction(account.Id.Value),
            ], cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TableTransactionFailedException ex) when (ex.Status == StatusCodes.Status412PreconditionFailed)
        {
            return false;
        }
    }

    public async Task<Account?> FindByEmailAsync(EmailAddress email, CancellationToken cancellationToken = default)
    {
        var index = await Table.FindAsync(EmailPartition(email), EmailRowKey, cancellationToken).ConfigureAwait(false);
        return index?.GetString("AccountId") is { } id && AccountId.TryParse(id, out var accountId)
            ? await GetAsync(accountId, cancellationToken).ConfigureAwait(false)
            : null;
    }

    /// <summary>
    /// Claims the e-mail, then writes the account and its first key (if any) in one transaction.
    /// False when another account already owns the address.
    /// </summary>
    public async Task<bool> TryCreateAsync(Account account, ApiKeyRecord? firstKey, CancellationToken cancellationToken = default)
    {
        if (!await TryClaimEmailAsync(account.Email, account.Id, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }
        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Add, ToEntity(account)) };
        if (firstKey is not null)
        {
            actions.Add(new(TableTransactionActionType.Add, ApiKeyStore.ToEntity(firstKey)));
        }
        await Table.CommitAsync(actions, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task<bool> TryClaimEmailAsync(EmailAddress email, AccountId owner, CancellationToken cancellationToken)
    {
        var index = new TableEntity(EmailPartition(email), EmailRowKey) { ["AccountId"] = owner.Value, ["ClaimedAt"] = time.GetUtcNow() };
        try
        {
            await Table.AddEntityAsync(index, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status409Conflict)
        {
        }
        var existing = await Table.FindAsync(index.PartitionKey, EmailRowKey, cancellationToken).ConfigureAwait(false);
        if (existing is null)
        {
            return false;
        }
        var current = existing.GetString("AccountId");
        if (current == owner.Value)
        {
            return true;
        }
        if (current is not null && AccountId.TryParse(current, out var currentOwner) && await GetAsync(currentOwner, cancellationToken).ConfigureAwait(false) is not null)
        {
            return false;
        }
        if (time.GetUtcNow() - (existing.GetDateTimeOffset("ClaimedAt") ?? DateTimeOffset.MinValue) < OrphanClaimAge)
        {
            return false;
        }
        try
        {
            await Table.UpdateEntityAsync(index, existing.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status412PreconditionFailed)
        {
            return false;
        }
    }

    public static TableEntity ToEntity(Account account) => new(account.Id.Value, AccountRowKey)
    {
        ["Kind"] = AccountKindNames.ToWire(account.Kind),
        ["Name"] = account.Name,
        ["Email"] = account.Email.Value,
        ["Activated"] = account.Activated,
        ["CreatedAt"] = account.CreatedAt,
        ["Profile"] = account.Profile,
    };

    public static Account ToAccount(TableEntity entity)
    {
        if (!AccountKindNames.TryParse(entity.GetString("Kind"), out var kind) || !EmailAddress.TryParse(entity.GetString("Email"), out var email))
        {
            throw new InvalidOperationException($"Account row {entity.PartitionKey} is corrupt.");
        }
        return new Account(
            AccountId.Parse(entity.PartitionKey),
            kind,
            entity.GetString("Name") ?? "",
            email,
            entity.GetBoolean("Activated") ?? false,
            entity.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue)
        {
            Profile = entity.GetString("Profile"),
        };
    }
}
