using System.Text.Json;
using Azure.Data.Tables;
using ThreePL.Domain.Common;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Orders;

/// <summary>A merchant's routing rules: evaluated in order, the first match wins, then the default.</summary>
public sealed record RoutingRules(IReadOnlyList<RoutingRule> Rules, string? DefaultConnectionId)
{
    public static RoutingRules None { get; } = new([], null);
}

/// <summary>
/// <c>skuPrefix</c>: every line's SKU starts with one of <see cref="SkuPrefixes"/> → <see cref="ConnectionId"/>.
/// <c>stocksEveryLine</c>: the one connection among <see cref="ConnectionIds"/> (default: all eligible ones)
/// whose reported stock covers every line (see <see cref="IInventoryLookup"/>).
/// </summary>
public sealed record RoutingRule(string Type, IReadOnlyList<string>? SkuPrefixes, string? ConnectionId, IReadOnlyList<string>? ConnectionIds)
{
    public const string SkuPrefix = "skuPrefix";
    public const string StocksEveryLine = "stocksEveryLine";
}

/// <summary>One carrier account of an account: which services it can ship with.</summary>
public sealed record CarrierAccount(string Carrier, IReadOnlyList<string> Services);

/// <summary>
/// Routing rules (<c>rules|{merchantId}</c>) and carrier accounts (<c>carriers|{accountId}</c>), one row each in table
/// <c>orders</c>. Routing reads the rules through a cache bounded to <see cref="MaxRulesLifetime"/>: a merchant's new
/// rules apply to every order routed from that long after the change on (at once on the instance that saved them).
/// </summary>
public sealed class RoutingStore(OrderStore orders, TimeProvider time, IConfiguration configuration)
{
    public static readonly TimeSpan MaxRulesLifetime = TimeSpan.FromSeconds(5);

    private const string RowKey = "current";

    private readonly StaleCache<AccountId, RoutingRules> _rules =
        new(time, StaleCache<AccountId, RoutingRules>.LifetimeFrom(configuration, "ThreePL:Orders:RulesCacheLifetime", MaxRulesLifetime));

    /// <summary>The rules as routing uses them: at most <see cref="MaxRulesLifetime"/> old.</summary>
    public async Task<RoutingRules> GetRulesForRoutingAsync(AccountId merchant, CancellationToken cancellationToken) =>
        await _rules.GetAsync(merchant, async token => await GetRulesAsync(merchant, token).ConfigureAwait(false), cancellationToken).ConfigureAwait(false)
            ?? RoutingRules.None;

    public async Task<RoutingRules> GetRulesAsync(AccountId merchant, CancellationToken cancellationToken)
    {
        var row = await orders.Table.FindAsync("rules|" + merchant.Value, RowKey, cancellationToken).ConfigureAwait(false);
        return row?.GetString("Rules") is { } json ? JsonSerializer.Deserialize<RoutingRules>(json, EventEnvelope.Json) ?? RoutingRules.None : RoutingRules.None;
    }

    public async Task SaveRulesAsync(AccountId merchant, RoutingRules rules, CancellationToken cancellationToken)
    {
        await orders.Table.UpsertEntityAsync(new TableEntity("rules|" + merchant.Value, RowKey) { ["Rules"] = JsonSerializer.Serialize(rules, EventEnvelope.Json) }, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        _rules.Forget(merchant);
    }

    public async Task<IReadOnlyList<CarrierAccount>> GetCarrierAccountsAsync(AccountId account, CancellationToken cancellationToken)
    {
        var row = await orders.Table.FindAsync("carriers|" + account.Value, RowKey, cancellationToken).ConfigureAwait(false);
        return row?.GetString("Accounts") is { } json ? JsonSerializer.Deserialize<List<CarrierAccount>>(json, EventEnvelope.Json) ?? [] : [];
    }

    public Task SaveCarrierAccountsAsync(AccountId account, IReadOnlyList<CarrierAccount> accounts, CancellationToken cancellationToken) =>
        orders.Table.UpsertEntityAsync(new TableEntity("carriers|" + account.Value, RowKey) { ["Accounts"] = JsonSerializer.Serialize(accounts, EventEnvelope.Json) }, TableUpdateMode.Replace, cancellationToken);
}

/// <summary>
/// What routing asks of inventory: does this connection stock every line? Implemented by the inventory feature over
/// the counts the 3PL reports; an interface so routing does not depend on how stock is stored.
/// </summary>
public interface IInventoryLookup
{
    Task<bool> StocksEveryLineAsync(ConnectionId connection, IReadOnlyList<Domain.Orders.OrderLine> lines, CancellationToken cancellationToken);
}
