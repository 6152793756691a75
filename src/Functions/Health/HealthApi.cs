using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Functions.Accounts;
using ThreePL.Functions.Http;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Storage.Queues;

namespace ThreePL.Functions.Health;

public sealed record HealthResponse(string Status);

/// <summary>
/// <c>/healthz</c> says the process answers; <c>/readyz</c> says it can do its work, which here means both
/// storage services answer a cheap read within a few seconds.
/// </summary>
public static class HealthApi
{
    private static readonly TimeSpan ReadinessBudget = TimeSpan.FromSeconds(5);

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new HealthResponse("ok"))).WithTags("Health").WithName("Liveness");
        app.MapGet("/readyz", ReadyAsync).WithTags("Health").WithName("Readiness");
        return app;
    }

    private static async Task<Results<Ok<HealthResponse>, ProblemHttpResult>> ReadyAsync(
        AccountStore accounts, QueueServiceClient queues, StorageNames names, StorageLayout layout, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (!layout.IsReady)
        {
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, "storage_unavailable", "Storage is not ready yet.");
        }
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(ReadinessBudget);
        try
        {
            await accounts.Table.FindAsync("readiness", "probe", budget.Token).ConfigureAwait(false);
            await queues.GetQueueClient(names.Queue(StorageLayout.ReadinessQueue)).GetApproximateMessagesCountAsync(budget.Token).ConfigureAwait(false);
            return TypedResults.Ok(new HealthResponse("ready"));
        }
        catch (Exception ex) when (ex is Azure.RequestFailedException or HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            loggers.CreateLogger("ThreePL.Readiness").LogWarning(ex, "Storage is not reachable");
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, "storage_unavailable", "Storage is not reachable.");
        }
    }
}
