using ThreePL.Functions.Http;

namespace ThreePL.Functions.Billing;

public static class BillingApi
{
    public static IEndpointRouteBuilder MapBillingApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/billing/usage", (HttpContext context, string? month, GetUsage handler, CancellationToken ct) =>
            handler.HandleAsync(context.GetCaller(), month, context.Request, ct)).WithTags("Billing").RequirePermission("billing:read").WithName("GetUsage");
        return app;
    }
}
