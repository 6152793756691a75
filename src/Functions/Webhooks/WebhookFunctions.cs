using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Webhooks;

public sealed class WebhookFunctions(
    HttpApi api,
    CreateWebhookEndpoint create,
    ManageWebhookEndpoints endpoints,
    ListWebhookDeliveries deliveries,
    RetryWebhookDelivery retry)
{
    private static readonly Access Manage = Access.Requires("webhooks:manage", ScopedCallers.Filtered);

    /// <summary>Account-wide endpoints receive every connection's events: account business.</summary>
    private static readonly Access ManageEndpoints = Access.Requires("webhooks:manage", ScopedCallers.Refused);

    [Function(nameof(CreateWebhookEndpoint))]
    public Task<IResult> CreateWebhookEndpointAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/webhook-endpoints")] HttpRequest request) =>
        api.RunAsync(request, ManageEndpoints, (Caller caller, CreateWebhookEndpointRequest body, CancellationToken ct) => create.HandleAsync(caller, body, ct));

    [Function("ListWebhookEndpoints")]
    public Task<IResult> ListWebhookEndpointsAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/webhook-endpoints")] HttpRequest request) =>
        api.RunAsync(request, ManageEndpoints, (Caller caller, CancellationToken ct) => endpoints.ListAsync(caller, ct));

    [Function("GetWebhookEndpoint")]
    public Task<IResult> GetWebhookEndpointAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/webhook-endpoints/{id}")] HttpRequest request, string id) =>
        api.RunAsync(request, ManageEndpoints, (Caller caller, CancellationToken ct) => endpoints.GetAsync(caller, id, ct));

    [Function("DeleteWebhookEndpoint")]
    public Task<IResult> DeleteWebhookEndpointAsync([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/webhook-endpoints/{id}")] HttpRequest request, string id) =>
        api.RunAsync(request, ManageEndpoints, (Caller caller, CancellationToken ct) => endpoints.DeleteAsync(caller, id, ct));

    [Function(nameof(ListWebhookDeliveries))]
    public Task<IResult> ListWebhookDeliveriesAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/webhook-deliveries")] HttpRequest request) =>
        api.RunAsync(request, Manage, (Caller caller, CancellationToken ct) => deliveries.ListAsync(
            caller, Query.Text(request, "connectionId"), Query.Text(request, "status"), Query.Text(request, "cursor"), Query.Int(request, "limit"), ct));

    [Function("GetWebhookDelivery")]
    public Task<IResult> GetWebhookDeliveryAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/webhook-deliveries/{id}")] HttpRequest request, string id) =>
        api.RunAsync(request, Manage, (Caller caller, CancellationToken ct) => deliveries.GetAsync(caller, id, ct));

    [Function(nameof(RetryWebhookDelivery))]
    public Task<IResult> RetryWebhookDeliveryAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/webhook-deliveries/{id}/retry")] HttpRequest request, string id) =>
        api.RunAsync(request, Manage, (Caller caller, CancellationToken ct) => retry.RetryAsync(caller, id, ct));

    [Function("RecoverWebhookDeliveries")]
    public Task<IResult> RecoverWebhookDeliveriesAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/webhook-deliveries/recover")] HttpRequest request) =>
        api.RunAsync(request, Manage, (Caller caller, RecoverWebhookDeliveriesRequest body, CancellationToken ct) => retry.RecoverAsync(caller, body, ct));
}
