using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Webhooks;

public static class WebhooksApi
{
    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        var endpoints = app.MapGroup("/v1/webhook-endpoints").WithTags("Webhooks").RequirePermission("webhooks:manage");
        endpoints.MapPost("", (HttpContext context, CreateWebhookEndpointRequest request, CreateWebhookEndpoint handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), request, ct)).WithName("CreateWebhookEndpoint");
        endpoints.MapGet("", (HttpContext context, ManageWebhookEndpoints handler, CancellationToken ct) =>
            handler.ListAsync(context.GetCaller(), ct)).WithName("ListWebhookEndpoints");
        endpoints.MapGet("/{id}", (HttpContext context, string id, ManageWebhookEndpoints handler, CancellationToken ct) =>
            handler.GetAsync(context.GetCaller(), id, ct)).WithName("GetWebhookEndpoint");
        endpoints.MapDelete("/{id}", (HttpContext context, string id, ManageWebhookEndpoints handler, CancellationToken ct) =>
            handler.DeleteAsync(context.GetCaller(), id, ct)).WithName("DeleteWebhookEndpoint");

        var deliveries = app.MapGroup("/v1/webhook-deliveries").WithTags("Webhooks").RequirePermission("webhooks:manage");
        deliveries.MapGet("", (HttpContext context, string? connectionId, string? status, string? cursor, int? limit, ListWebhookDeliveries handler, CancellationToken ct) =>
            handler.ListAsync(context.GetCaller(), connectionId, status, cursor, limit, ct)).WithName("ListWebhookDeliveries");
        deliveries.MapGet("/{id}", (HttpContext context, string id, ListWebhookDeliveries handler, CancellationToken ct) =>
            handler.GetAsync(context.GetCaller(), id, ct)).WithName("GetWebhookDelivery");
        deliveries.MapPost("/{id}/retry", (HttpContext context, string id, RetryWebhookDelivery handler, CancellationToken ct) =>
            handler.RetryAsync(context.GetCaller(), id, ct)).WithName("RetryWebhookDelivery");
        deliveries.MapPost("/recover", (HttpContext context, RecoverWebhookDeliveriesRequest request, RetryWebhookDelivery handler, CancellationToken ct) =>
            handler.RecoverAsync(context.GetCaller(), request, ct)).WithName("RecoverWebhookDeliveries");
        return app;
    }

    /// <summary>Account-wide endpoints are account business; a key scoped to one connection cannot manage them.</summary>
    public static ProblemHttpResult ScopedKeyProblem() =>
        Problems.Forbidden("key_scoped_to_connection", "A key scoped to one connection cannot manage the account's webhook endpoints.");

    public static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(WebhookOptions.FromConfiguration(configuration));
        WebhookSender.Configure(services);
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<WebhookStore>();
        services.AddSingleton<WebhookFanOut>();
        services.AddSingleton<Hosting.IQueueFunction, DeliverWebhook>();
        services.AddSingleton<CreateWebhookEndpoint>();
        services.AddSingleton<ManageWebhookEndpoints>();
        services.AddSingleton<ListWebhookDeliveries>();
        services.AddSingleton<RetryWebhookDelivery>();
        return services;
    }
}
