using System.Globalization;
using Azure;
using Azure.Data.Tables;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Audit;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Connections;

/// <summary>
/// Table <c>connections</c>. Partitions, and why:
/// <list type="bullet">
/// <item><c>{connectionId}</c>: RowKey <c>connection</c> (state, current settings, webhook secrets, token
/// hash), <c>settings|{version}</c> (every settings version, immutable), <c>audit|…</c> and <c>outbox|…</c>.
/// One partition, so a transition, its audit record and the messages it causes commit in one transaction.</item>
/// <item><c>pair|{threePlId}|{merchantId}</c>, RowKey <c>pair</c>: which connection currently holds the pair.
/// Claimed (insert, or ETag-guarded replace of a finished one) before the connection is written, which is
/// what keeps "at most one open connection per pair" true under concurrent invitations.</item>
/// <item><c>account|{accountId}</c>, RowKey <c>{connectionId}</c>: membership, written before the connection
/// and never changed, so it cannot go stale; lists read the connection rows for the current status.</item>
/// </list>
/// </summary>
public sealed class ConnectionStore(TableServiceClient tables, StorageNames names, TimeProvider time, IConfiguration configuration, LocalChanges changes)
{
    /// <summary>The longest <see cref="GetRecentAsync"/> serves a connection after it was read (the webhook targets' bound, docs/webhooks.md).</summary>
    public static readonly TimeSpan MaxRecentLifetime = TimeSpan.FromSeconds(5);

    private readonly StaleCache<ConnectionId, StoredConnection> _recent = ForgottenOnChange(
        new(time, StaleCache<ConnectionId, StoredConnection>.LifetimeFrom(configuration, "ThreePL:Webhooks:TargetCacheLifetime", MaxRecentLifetime)), changes);

    public const string TableName = "connections";
    public const string ConnectionRowKey = "connection";
    private const string SettingsRowPrefix = "settings|";

    /// <summary>The reminder column of rows written before the connection workflow became a Durable orchestration.</summary>
    public const string LegacyReminderDueAt = "ReminderDueAt";

    /// <summary>
    /// A pair claim whose connection never appeared is from a crashed invitation; after this long it is free
    /// again. Before that it may be an invitation still in flight, so it still counts as taken.
    /// </summary>
    public static readonly TimeSpan OrphanClaimAge = TimeSpan.FromMinutes(2);

    public TableClient Table => tables.GetTableClient(names.Table(TableName));

    public static string PairPartition(AccountId threePl, AccountId merchant) => $"pair|{threePl.Value}|{merchant.Value}";

    public static string AccountPartition(AccountId account) => $"account|{account.Value}";

    public static string SettingsRowKey(int version) => SettingsRowPrefix + version.ToString("D6", CultureInfo.InvariantCulture);

    private static StaleCache<ConnectionId, StoredConnection> ForgottenOnChange(StaleCache<ConnectionId, StoredConnection> recent, LocalChanges changes)
    {
        // A change this instance made is seen by its next recent read at once.
        changes.ConnectionChanged += recent.Forget;
        return recent;
    }

    /// <summary>The connection as stored now; the read also serves <see cref="GetRecentAsync"/> for a while.</summary>
    public async Task<StoredConnection?> GetAsync(ConnectionId id, CancellationToken cancellationToken = default)
    {
        var startedAt = time.GetUtcNow();
        var row = await Table.FindAsync(id.Value, ConnectionRowKey, cancellationToken).ConfigureAwait(false);
        if (row is null)
        {
            return null;
        }
        var stored = FromEntity(row);
        _recent.Remember(id, stored, startedAt);
        return stored;
    }

    /// <summary>
    /// The connection as this instance read it at most <see cref="MaxRecentLifetime"/> ago (by any read: routing's fresh
    /// read of an order's connection serves the fan-out of the order's events), for readers that accept that staleness.
    /// </summary>
    public Task<StoredConnection?> GetRecentAsync(ConnectionId id, CancellationToken cancellationToken) =>
        _recent.GetAsync(id, token => GetAsync(id, token), cancellationToken);

    /// <summary>Drops what <see cref="GetRecentAsync"/> would serve, after this instance changed the connection.</summary>
    public void ForgetRecent(ConnectionId id) => _recent.Forget(id);

    public async Task<ConnectionSettings?> GetSettingsVersionAsync(ConnectionId id, int version, CancellationToken cancellationToken = default)
    {
        var row = await Table.FindAsync(id.Value, SettingsRowKey(version), cancellationToken).ConfigureAwait(false);
        return row is null ? null : SettingsFromEntity(row);
    }

    /// <summary>
    /// Claims the pair for <paramref name="connection"/>. Returns null on success, or the connection that
    /// holds the pair (open, or a claim still in flight) on conflict.
    /// </summary>
    public async Task<ClaimConflict?> TryClaimPairAsync(Connection connection, CancellationToken cancellationToken)
    {
        var partition = PairPartition(connection.ThreePlAccountId, connection.MerchantAccountId);
        var claim = new TableEntity(partition, "pair") { ["ConnectionId"] = connection.Id.Value, ["ClaimedAt"] = time.GetUtcNow() };
        for (var attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                await Table.AddEntityAsync(claim, cancellationToken).ConfigureAwait(false);
                return null;
            }
            catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status409Conflict)
            {
            }
            var existing = await Table.FindAsync(partition, "pair", cancellationToken).ConfigureAwait(false);
            if (existing is null)
            {
                continue;
            }
            var holderId = ConnectionId.Parse(existing.GetString("ConnectionId")!);
            if (holderId == connection.Id)
            {
                return null;
            }
            var holder = await GetAsync(holderId, cancellationToken).ConfigureAwait(false);
            if (holder is { Connection.Status: var status } && status.IsOpen())
            {
                return new ClaimConflict(holderId, status);
            }
            if (holder is null && time.GetUtcNow() - (existing.GetDateTimeOffset("ClaimedAt") ?? DateTimeOffset.MinValue) < OrphanClaimAge)
            {
                return new ClaimConflict(holderId, ConnectionStatus.Pending);
            }
            try
            {
                await Table.UpdateEntityAsync(claim, existing.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
                return null;
            }
            catch (RequestFailedException ex) when (ex.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status404NotFound)
            {
            }
        }
        throw new InvalidOperationException("The pair claim kept changing; giving up.");
    }

    /// <summary>The connection that last claimed the pair (open or not), or null when the pair was never claimed.</summary>
    public async Task<StoredConnection?> GetPairHolderAsync(AccountId threePl, AccountId merchant, CancellationToken cancellationToken)
    {
        var claim = await Table.FindAsync(PairPartition(threePl, merchant), "pair", cancellationToken).ConfigureAwait(false);
        return claim?.GetString("ConnectionId") is { } holder && ConnectionId.TryParse(holder, out var id)
            ? await GetAsync(id, cancellationToken).ConfigureAwait(false)
            : null;
    }

    /// <summary>Membership rows for both parties; idempotent, written before the connection itself.</summary>
    public async Task AddMembershipAsync(Connection connection, CancellationToken cancellationToken)
    {
        foreach (var account in new[] { connection.ThreePlAccountId, connection.MerchantAccountId })
        {
            var row = new TableEntity(AccountPartition(account), connection.Id.Value) { ["CreatedAt"] = connection.CreatedAt };
            await Table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes a new connection, its first settings version, audit and outbox in one transaction.</summary>
    public async Task<ETag> CreateAsync(StoredConnection created, IEnumerable<AuditRecord> audit, IEnumerable<OutboxMessage> outbox, CancellationToken cancellationToken)
    {
        var partition = created.Connection.Id.Value;
        var actions = new List<TableTransactionAction>
        {
            new(TableTransactionActionType.Add, ToEntity(created)),
            new(TableTransactionActionType.Add, SettingsVersionEntity(created.Connection.Id, created.Settings, created.Connection.CreatedAt)),
        };
        actions.AddRange(audit.Select(a => a.ToAction(partition)));
        actions.AddRange(outbox.Select(m => Outbox.Add(partition, m)));
        var responses = await Table.CommitAsync(actions, cancellationToken).ConfigureAwait(false);
        return responses[0].GetETag();
    }

    /// <summary>
    /// Replaces the connection row if it is unchanged since it was read, together with its audit and outbox
    /// rows and, when the settings changed, the new settings version. A 412 means someone else changed it first.
    /// </summary>
    /// <summary>An audit row on its own, for an action that changes no connection state.</summary>
    public async Task AppendAuditAsync(ConnectionId id, AuditRecord audit, CancellationToken cancellationToken) =>
        await Table.AddEntityAsync(audit.ToAction(id.Value).Entity, cancellationToken).ConfigureAwait(false);

    public async Task<ETag> CommitAsync(StoredConnection updated, bool settingsChanged, IEnumerable<AuditRecord> audit, IEnumerable<OutboxMessage> outbox, CancellationToken cancellationToken)
    {
        var partition = updated.Connection.Id.Value;
        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.UpdateReplace, ToEntity(updated), updated.ETag) };
        if (settingsChanged)
        {
            actions.Add(new(TableTransactionActionType.Add, SettingsVersionEntity(updated.Connection.Id, updated.Settings, updated.Connection.UpdatedAt)));
        }
        actions.AddRange(audit.Select(a => a.ToAction(partition)));
        actions.AddRange(outbox.Select(m => Outbox.Add(partition, m)));
        var responses = await Table.CommitAsync(actions, cancellationToken).ConfigureAwait(false);
        return responses[0].GetETag();
    }

    /// <summary>The ids of an account's connections, a page at a time (newest first is not promised).</summary>
    public async Task<(IReadOnlyList<ConnectionId> Ids, string? Cursor)> ListIdsAsync(AccountId account, string? cursor, int limit, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {AccountPartition(account)}");
        var page = await Table.QueryPageAsync(filter, cursor, limit, cancellationToken: cancellationToken).ConfigureAwait(false);
        return (page.Items.Select(e => ConnectionId.Parse(e.RowKey)).ToList(), page.ContinuationToken);
    }

    /// <summary>
    /// Pending connections in connection-id order, after <paramref name="afterId"/>, at most <paramref name="limit"/>;
    /// <c>More</c> says whether any follow. Reads across every partition (the filter names no PartitionKey), so it is
    /// for the operator's one-off upgrade step, never for a request path.
    /// </summary>
    public async Task<(IReadOnlyList<StoredConnection> Items, bool More)> ListPendingAsync(ConnectionId? afterId, int limit, CancellationToken cancellationToken)
    {
        var pending = ConnectionStatusNames.ToWire(ConnectionStatus.Pending);
        var filter = afterId is { } after
            ? TableClient.CreateQueryFilter($"RowKey eq {ConnectionRowKey} and Status eq {pending} and PartitionKey gt {after.Value}")
            : TableClient.CreateQueryFilter($"RowKey eq {ConnectionRowKey} and Status eq {pending}");
        var items = new List<StoredConnection>();
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, maxPerPage: limit + 1, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (items.Count == limit)
            {
                return (items, true);
            }
            items.Add(FromEntity(row));
        }
        return (items, false);
    }

    public static TableEntity ToEntity(StoredConnection stored)
    {
        var state = stored.Connection.ToState();
        var settings = stored.Settings.ToState();
        return new TableEntity(state.Id.Value, ConnectionRowKey)
        {
            ["ThreePlAccountId"] = state.ThreePlAccountId.Value,
            ["MerchantAccountId"] = state.MerchantAccountId.Value,
            ["InvitedBy"] = PartyNames.ToWire(state.InvitedBy),
            ["InviteeEmail"] = state.InviteeEmail,
            ["ClientName"] = state.ClientName,
            ["CompanyName"] = state.CompanyName,
            ["Status"] = ConnectionStatusNames.ToWire(state.Status),
            ["CreatedAt"] = state.CreatedAt,
            ["UpdatedAt"] = state.UpdatedAt,
            ["ExpiresAt"] = state.ExpiresAt,
            ["RemindAt"] = state.RemindAt,
            ["StatusChangedBy"] = state.StatusChangedBy?.Value,
            ["Version"] = state.Version,
            ["SettingsVersion"] = settings.Version,
            ["ManageOrders"] = settings.ManageOrders,
            ["ShippingRules"] = PartyNames.ToWire(settings.ShippingRules),
            ["OrderFeeBilledTo"] = PartyNames.ToWire(settings.OrderFeeBilledTo),
            ["SupportTickets"] = PartyNames.ToWire(settings.SupportTickets),
            ["InternalCustomerId"] = settings.InternalCustomerId,
            ["WebhookUrl"] = settings.WebhookUrl,
            ["AcceptWithinSeconds"] = (long?)settings.AcceptWithin?.TotalSeconds,
            ["WebhookSecret"] = stored.Secrets.Current,
            ["PreviousWebhookSecret"] = stored.Secrets.Previous,
            ["PreviousWebhookSecretExpiresAt"] = stored.Secrets.PreviousExpiresAt,
            ["TokenHash"] = stored.TokenHash,
        };
    }

    public static StoredConnection FromEntity(TableEntity row)
    {
        PartyNames.TryParse(row.GetString("InvitedBy"), out Party invitedBy);
        ConnectionStatusNames.TryParse(row.GetString("Status"), out var status);
        var connection = Connection.Restore(new ConnectionState(
            ConnectionId.Parse(row.PartitionKey),
            AccountId.Parse(row.GetString("ThreePlAccountId")!),
            AccountId.Parse(row.GetString("MerchantAccountId")!),
            invitedBy,
            row.GetString("InviteeEmail"),
            row.GetString("ClientName"),
            row.GetString("CompanyName"),
            status,
            row.GetDateTimeOffset("CreatedAt")!.Value,
            row.GetDateTimeOffset("UpdatedAt")!.Value,
            row.GetDateTimeOffset("ExpiresAt")!.Value,
            // A row written before the Durable workflow keeps its reminder time as ReminderDueAt (null once that engine had
            // sent the reminder); its first write replaces it in today's shape.
            row.GetDateTimeOffset("RemindAt") ?? row.GetDateTimeOffset(LegacyReminderDueAt),
            row.GetString("StatusChangedBy") is { } by ? AccountId.Parse(by) : null,
            row.GetInt64("Version")!.Value));
        var secrets = new WebhookSecrets(row.GetString("WebhookSecret"), row.GetString("PreviousWebhookSecret"), row.GetDateTimeOffset("PreviousWebhookSecretExpiresAt"));
        return new StoredConnection(connection, SettingsFromEntity(row), secrets, row.GetBinary("TokenHash") ?? [], row.ETag);
    }

    private static TableEntity SettingsVersionEntity(ConnectionId id, ConnectionSettings settings, DateTimeOffset at)
    {
        var state = settings.ToState();
        return new TableEntity(id.Value, SettingsRowKey(state.Version))
        {
            ["SettingsVersion"] = state.Version,
            ["ManageOrders"] = state.ManageOrders,
            ["ShippingRules"] = PartyNames.ToWire(state.ShippingRules),
            ["OrderFeeBilledTo"] = PartyNames.ToWire(state.OrderFeeBilledTo),
            ["SupportTickets"] = PartyNames.ToWire(state.SupportTickets),
            ["InternalCustomerId"] = state.InternalCustomerId,
            ["WebhookUrl"] = state.WebhookUrl,
            ["AcceptWithinSeconds"] = (long?)state.AcceptWithin?.TotalSeconds,
            ["CreatedAt"] = at,
        };
    }

    private static ConnectionSettings SettingsFromEntity(TableEntity row)
    {
        PartyNames.TryParse(row.GetString("ShippingRules"), out SettingsOwner shippingRules);
        PartyNames.TryParse(row.GetString("OrderFeeBilledTo"), out SettingsOwner orderFee);
        PartyNames.TryParse(row.GetString("SupportTickets"), out SettingsOwner tickets);
        return ConnectionSettings.Restore(new ConnectionSettingsState(
            row.GetInt32("SettingsVersion") ?? 1,
            row.GetBoolean("ManageOrders") ?? true,
            shippingRules,
            orderFee,
            tickets,
            row.GetString("InternalCustomerId"),
            row.GetString("WebhookUrl"))
        {
            AcceptWithin = row.GetInt64("AcceptWithinSeconds") is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
        });
    }
}

public sealed record ClaimConflict(ConnectionId HolderId, ConnectionStatus Status);
