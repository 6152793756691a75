using ThreePL.Functions.Http;

namespace ThreePL.Functions.Billing;

public sealed class BillingFunctions(HttpApi api, GetUsage usage)
{
    [Function(nameof(GetUsage))]
    public Task<IResult> GetUsageAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/billing/usage")] HttpRequest request) =>
        api.RunAsync(request, Access.Requires("billing:read", ScopedCallers.Filtered), (Caller caller, CancellationToken ct) =>
            usage.HandleAsync(caller, Query.Text(request, "month"), request, ct));
}
