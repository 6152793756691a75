using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Webhooks;

/// <summary>List, read and delete an account's endpoints (never their secrets).</summary>
public sealed class ManageWebhookEndpoints(WebhookEndpointStore store, DestinationHealthStore health, WebhookTargets targets)
{
    public async Task<Results<Ok<Page<WebhookEndpointResponse>>, ProblemHttpResult>> ListAsync(Caller caller, CancellationToken cancellationToken)
    {
        var endpoints = await store.ListEndpointsAsync(caller.AccountId, cancellationToken).ConfigureAwait(false);
        var healths = await Task.WhenAll(endpoints.Select(e => health.GetHealthAsync(e.Id, cancellationToken))).ConfigureAwait(false);
        return TypedResults.Ok(new Page<WebhookEndpointResponse>(endpoints.Select((e, i) => WebhookEndpointResponse.For(e, healths[i])).ToList(), null));
    }

    public async Task<Results<Ok<WebhookEndpointResponse>, ProblemHttpResult>> GetAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        var endpoint = WebhookTable.IsEndpointId(id) ? await store.GetEndpointAsync(caller.AccountId, id, cancellationToken).ConfigureAwait(false) : null;
        if (endpoint is null)
        {
            return Problems.NotFound("webhook endpoint");
        }
        return TypedResults.Ok(WebhookEndpointResponse.For(endpoint, await health.GetHealthAsync(id, cancellationToken).ConfigureAwait(false)));
    }

    public async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        if (!WebhookTable.IsEndpointId(id) || !await store.DeleteEndpointAsync(caller.AccountId, id, cancellationToken).ConfigureAwait(false))
        {
            return Problems.NotFound("webhook endpoint");
        }
        targets.ForgetEndpointsOf(caller.AccountId);
        await health.ResetHealthAsync(id, cancellationToken).ConfigureAwait(false);
        return TypedResults.NoContent();
    }
}
