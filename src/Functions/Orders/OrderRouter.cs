using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Orders;

/// <summary>
/// Where an order goes and the delegation itself, shared by the routing function and the merchant's manual
/// choice. A connection is eligible when it is the merchant's, active and has <c>manageOrders</c> on. Routing
/// tries the merchant's rules in order, then the rules' default, then the single eligible connection; when
/// none of these names an eligible connection the order stays with the merchant. A connection in
/// <c>excluded</c> (one that rejected the order or was handed it back before) is never eligible, so an order
/// moves on after a rejection but never back and forth.
/// </summary>
public sealed class OrderRouter(ConnectionStore connections, MerchantConnections merchantConnections, RoutingStore routing, IInventoryLookup inventory, OrderCommands commands, HandBackOptions handBack, TimeProvider time)
{
    public async Task<StoredConnection?> ChooseAsync(Order order, CancellationToken cancellationToken, IReadOnlySet<ConnectionId>? excluded = null)
    {
        excluded ??= new HashSet<ConnectionId>();
        var rules = await routing.GetRulesForRoutingAsync(order.MerchantAccountId, cancellationToken).ConfigureAwait(false);
        var cache = new Dictionary<ConnectionId, StoredConnection?>();
        foreach (var rule in rules.Rules)
        {
            switch (rule.Type)
            {
                case RoutingRule.SkuPrefix when rule.SkuPrefixes is { Count: > 0 } prefixes
                    && order.Lines.All(l => prefixes.Any(p => l.Sku.StartsWith(p, StringComparison.Ordinal))):
                    if (await EligibleAsync(rule.ConnectionId, order, excluded, cache, cancellationToken).ConfigureAwait(false) is { } bySku)
                    {
                        return bySku;
                    }
                    break;
                case RoutingRule.StocksEveryLine:
                    var candidates = rule.ConnectionIds is { } ids
                        ? await EligibleListAsync(ids, order, excluded, cache, cancellationToken).ConfigureAwait(false)
                        : await EligibleOfMerchantAsync(order, excluded, cancellationToken).ConfigureAwait(false);
                    var stocking = new List<StoredConnection>();
                    foreach (var candidate in candidates)
                    {
                        if (await inventory.StocksEveryLineAsync(candidate.Connection.Id, order.Lines, cancellationToken).ConfigureAwait(false))
                        {
                            stocking.Add(candidate);
                        }
                    }
                    if (stocking.Count == 1)
                    {
                        return stocking[0];
                    }
                    break;
            }
        }
        if (await EligibleAsync(rules.DefaultConnectionId, order, excluded, cache, cancellationToken).ConfigureAwait(false) is { } byDefault)
        {
            return byDefault;
        }
        var eligible = await EligibleOfMerchantAsync(order, excluded, cancellationToken).ConfigureAwait(false);
        return eligible.Count == 1 ? eligible[0] : null;
    }

    /// <summary>
    /// Delegates <paramref name="orderId"/> to <paramref name="connectionId"/> under the connection's current
    /// settings. <paramref name="expectedVersion"/> makes it a no-op when the order moved on (a re-delivered
    /// routing message). A connection deactivated meanwhile may have finished its first hand-back before the order
    /// was there to hand back: a delegation carried by a queue message that finished within
    /// <see cref="HandBackOptions.DelegationWindow"/> of reading the connection leaves that to the hand-back's second
    /// run; any other reads the connection again after the commit and hands the order back itself.
    /// </summary>
    /// <param name="orderId">The order.</param>
    /// <param name="connectionId">The connection to delegate to.</param>
    /// <param name="merchant">The merchant the order and the connection must belong to.</param>
    /// <param name="expectedVersion">The order version the caller decided on, or null for "whatever it is now".</param>
    /// <param name="cancellationToken">Cancels the delegation.</param>
    /// <param name="recovery">What repairs a crash after the commit.</param>
    /// <param name="alreadyRead">The order as the caller just read it, to spare a second read.</param>
    /// <param name="connection">The connection as the caller just read it, to spare a second read.</param>
    /// <param name="connectionReadAt">When the caller started reading <paramref name="connection"/>.</param>
    public async Task<OrderCommandResult> DelegateAsync(
        OrderId orderId,
        ConnectionId connectionId,
        AccountId merchant,
        long? expectedVersion,
        CancellationToken cancellationToken,
        OrderRecovery recovery = OrderRecovery.FollowUp,
        StoredOrder? alreadyRead = null,
        StoredConnection? connection = null,
        DateTimeOffset? connectionReadAt = null)
    {
        var readAt = connectionReadAt;
        if (connection is null || connection.Connection.Id != connectionId)
        {
            readAt = time.GetUtcNow();
            connection = await connections.GetAsync(connectionId, cancellationToken).ConfigureAwait(false);
        }
        var stored = connection;
        if (stored is null || stored.Connection.MerchantAccountId != merchant)
        {
            return new OrderCommandResult(null, new DomainError(OrderRoutingErrors.NoSuchConnection, "No such connection."), false);
        }
        if (stored.Connection.Status != ConnectionStatus.Active)
        {
            return Refused(OrderRoutingErrors.ConnectionNotActive, $"The connection is {ConnectionStatusNames.ToWire(stored.Connection.Status)}; only an active connection receives orders.");
        }
        if (!stored.Settings.ManageOrders)
        {
            return Refused(OrderRoutingErrors.ConnectionNotManagingOrders, "The 3PL does not manage this client's orders (manageOrders is off).");
        }
        // The shipping service never changes on an order, so an order known to name none needs no carrier check.
        var owner = stored.Settings.ShippingRules == SettingsOwner.ThreePl ? stored.Connection.ThreePlAccountId : stored.Connection.MerchantAccountId;
        var carriers = alreadyRead is { Order.ShippingService: null }
            ? []
            : await routing.GetCarrierAccountsAsync(owner, cancellationToken).ConfigureAwait(false);
        var delegation = Delegation.From(connectionId, stored.Settings);
        var result = await commands.RunAsync(orderId, (current, now) =>
        {
            var order = current.Order;
            if (order.MerchantAccountId != merchant)
            {
                return (null, new DomainError(OrderRoutingErrors.NoSuchConnection, "No such connection."));
            }
            if (expectedVersion is { } version && order.Version != version)
            {
                return (null, new DomainError(OrderRoutingErrors.VersionChanged, "The order changed since routing was requested."));
            }
            if (order.Status == OrderStatus.Open && carriers.Count > 0 && order.ShippingService is { } service
                && !carriers.Any(c => c.Services.Contains(service, StringComparer.OrdinalIgnoreCase)))
            {
                return (null, new DomainError(OrderRoutingErrors.CarrierServiceNotSupported, OrderRoutingErrors.CarrierServiceNotSupportedMessage));
            }
            var outcome = order.Delegate(delegation, now);
            return outcome.Succeeded
                ? (new OrderDecision(current with { ThreePlAccountId = stored.Connection.ThreePlAccountId }, outcome.Events), null)
                : (null, outcome.Error);
        }, cancellationToken, recovery, alreadyRead).ConfigureAwait(false);
        if (result.Changed && result.Order is { } committed)
        {
            var settledByHandBack = recovery == OrderRecovery.MessageRedelivery
                && readAt is { } read && time.GetUtcNow() - read <= handBack.DelegationWindow;
            return settledByHandBack ? result : await HandBackIfDeactivatedAsync(committed, cancellationToken).ConfigureAwait(false) ?? result;
        }
        return result;

        static OrderCommandResult Refused(string code, string message) => new(null, new DomainError(code, message), false);
    }

    /// <summary>
    /// Finishes routing's work on an order after its message came back: publishing what the delegation carries, list
    /// rows, and the deactivation check that follows a delegation. Idempotent.
    /// </summary>
    public async Task RecoverAsync(StoredOrder stored, long afterVersion, CancellationToken cancellationToken)
    {
        await commands.RecoverAsync(stored, afterVersion, cancellationToken).ConfigureAwait(false);
        await HandBackIfDeactivatedAsync(stored, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A connection deactivated or disconnected while an order was being delegated to it may have finished its
    /// hand-back before the order was there to hand back; this catches that order.
    /// </summary>
    private async Task<OrderCommandResult?> HandBackIfDeactivatedAsync(StoredOrder delegated, CancellationToken cancellationToken)
    {
        if (delegated.Order is not { Status: OrderStatus.AwaitingShipment, ConnectionId: { } connectionId }
            || await connections.GetAsync(connectionId, cancellationToken).ConfigureAwait(false) is { Connection.Status: ConnectionStatus.Active })
        {
            return null;
        }
        var handedBack = await commands.TransitionAsync(delegated.Order.Id, (order, now) => order.ConnectionId == connectionId
            ? order.HandBack(now)
            : Outcome<OrderEvent>.Failure(OrderErrors.InvalidTransition, "No longer with this connection."), cancellationToken).ConfigureAwait(false);
        return handedBack.Changed ? handedBack : null;
    }

    private async Task<StoredConnection?> EligibleAsync(string? id, Order order, IReadOnlySet<ConnectionId> excluded, Dictionary<ConnectionId, StoredConnection?> cache, CancellationToken cancellationToken)
    {
        if (!ConnectionId.TryParse(id, out var connectionId))
        {
            return null;
        }
        if (!cache.TryGetValue(connectionId, out var stored))
        {
            stored = await connections.GetAsync(connectionId, cancellationToken).ConfigureAwait(false);
            cache[connectionId] = stored;
        }
        return stored is not null && IsEligible(stored, order, excluded) ? stored : null;
    }

    private async Task<List<StoredConnection>> EligibleListAsync(IEnumerable<string> ids, Order order, IReadOnlySet<ConnectionId> excluded, Dictionary<ConnectionId, StoredConnection?> cache, CancellationToken cancellationToken)
    {
        var list = new List<StoredConnection>();
        foreach (var id in ids)
        {
            if (await EligibleAsync(id, order, excluded, cache, cancellationToken).ConfigureAwait(false) is { } stored)
            {
                list.Add(stored);
            }
        }
        return list;
    }

    private async Task<List<StoredConnection>> EligibleOfMerchantAsync(Order order, IReadOnlySet<ConnectionId> excluded, CancellationToken cancellationToken) =>
        (await merchantConnections.CurrentAsync(order.MerchantAccountId, cancellationToken).ConfigureAwait(false))
            .Where(c => IsEligible(c, order, excluded)).ToList();

    private static bool IsEligible(StoredConnection stored, Order order, IReadOnlySet<ConnectionId> excluded) =>
        !excluded.Contains(stored.Connection.Id)
        && stored.Connection.MerchantAccountId == order.MerchantAccountId
        && stored.Connection.Status == ConnectionStatus.Active
        && stored.Settings.ManageOrders;
}
