using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Webhooks;

/// <summary>List, read and delete an account's endpoints (never their secrets).</summary>
public sealed class ManageWebhookEndpoints(WebhookStore store)
{
    public async Task<Results<Ok<Page<WebhookEndpointResponse>>, ProblemHttpResult>> ListAsync(Caller caller, CancellationToken cancellationToken)
    {
        var endpoints = await store.ListEndpointsAsync(caller.AccountId, cancellationToken).ConfigureAwait(false);
        var health = await Task.WhenAll(endpoints.Select(e => store.GetHealthAsync(e.Id, cancellationToken))).ConfigureAwait(false);
        return TypedResults.Ok(new Page<WebhookEndpointResponse>(endpoints.Select((e, i) => WebhookEndpointResponse.For(e, health[i])).ToList(), null));
    }

    public async Task<Results<Ok<WebhookEndpointResponse>, ProblemHttpResult>> GetAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        var endpoint = WebhookStore.IsEndpointId(id) ? await store.GetEndpointAsync(caller.AccountId, id, cancellationToken).ConfigureAwait(false) : null;
        if (endpoint is null)
        {
            return Problems.NotFound("webhook endpoint");
        }
        return TypedResults.Ok(WebhookEndpointResponse.For(endpoint, await store.GetHealthAsync(id, cancellationToken).ConfigureAwait(false)));
    }

    public async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        return WebhookStore.IsEndpointId(id) && await store.DeleteEndpointAsync(caller.AccountId, id, cancellationToken).ConfigureAwait(false)
            ? TypedResults.NoContent()
            : Problems.NotFound("webhook endpoint");
    }
}
