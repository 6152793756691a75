using ThreePL.Domain.Common;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Webhooks;

/// <summary>
/// Where webhooks go, as fan-out and delivery see it: an account's endpoints, and a connection's per-client URL and
/// signing secrets. Both used to be read for every event and every attempt; they change rarely, so they are served
/// from a <see cref="StaleCache{TKey,TValue}"/> for at most <see cref="MaxLifetime"/>. What that means for users,
/// documented in docs/webhooks.md: a new or deleted endpoint, a changed webhook URL or a rotated secret takes effect
/// within that bound on every instance (at once on the instance that made the change, and on the instance that
/// handles the change's own event). Signing with a secret rotated seconds ago is harmless: the old one stays valid
/// for 24 h.
/// </summary>
public sealed class WebhookTargets
{
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromSeconds(5);

    private readonly WebhookEndpointStore _endpointStore;
    private readonly ConnectionStore _connectionStore;
    private readonly StaleCache<AccountId, IReadOnlyList<WebhookEndpoint>> _endpoints;

    public WebhookTargets(WebhookEndpointStore endpoints, ConnectionStore connections, LocalChanges changes, TimeProvider time, IConfiguration configuration)
    {
        _endpointStore = endpoints;
        _connectionStore = connections;
        _endpoints = new(time, StaleCache<AccountId, IReadOnlyList<WebhookEndpoint>>.LifetimeFrom(configuration, "ThreePL:Webhooks:TargetCacheLifetime", MaxLifetime));
        changes.ConnectionChanged += ForgetConnection;
    }

    /// <summary>The account's endpoints (none is an empty list).</summary>
    public async Task<IReadOnlyList<WebhookEndpoint>> EndpointsOfAsync(AccountId account, CancellationToken cancellationToken) =>
        await _endpoints.GetAsync(account, async token => await _endpointStore.ListEndpointsAsync(account, token).ConfigureAwait(false), cancellationToken).ConfigureAwait(false)
            ?? [];

    /// <summary>The connection's 3PL, webhook URL (null when none is set) and secrets; null when there is no such connection.</summary>
    /// <remarks>The connection as recently read by this instance (<see cref="ConnectionStore.GetRecentAsync"/>), so the fan-out of an order that routing just delegated reads nothing.</remarks>
    public async Task<ConnectionTarget?> ConnectionAsync(ConnectionId id, CancellationToken cancellationToken) =>
        await _connectionStore.GetRecentAsync(id, cancellationToken).ConfigureAwait(false) is { } stored
            ? new ConnectionTarget(stored.Connection.ThreePlAccountId, stored.Settings.WebhookUrl, stored.Secrets)
            : null;

    public void ForgetEndpointsOf(AccountId account) => _endpoints.Forget(account);

    public void ForgetConnection(ConnectionId id) => _connectionStore.ForgetRecent(id);
}

/// <summary>A connection as webhooks need it.</summary>
public sealed record ConnectionTarget(AccountId ThreePlAccountId, Uri? WebhookUrl, WebhookSecrets Secrets);
