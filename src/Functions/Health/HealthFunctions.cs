using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Functions.Accounts;
using ThreePL.Functions.Http;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Health;

public sealed record HealthResponse(string Status);

/// <summary>
/// <c>/healthz</c> says the process answers; <c>/readyz</c> says it can do its work, which here means both
/// storage services answer a cheap read within a few seconds.
/// </summary>
public sealed class HealthFunctions(HttpApi api, AccountStore accounts, QueueServiceClient queues, StorageNames names, StorageLayout layout, ILogger<HealthFunctions> logger)
{
    private static readonly TimeSpan ReadinessBudget = TimeSpan.FromSeconds(5);

    [Function("Liveness")]
    public Task<IResult> LivenessAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "healthz")] HttpRequest request) =>
        api.RunPublicAsync(request, _ => Task.FromResult(TypedResults.Ok(new HealthResponse("ok"))));

    [Function("Readiness")]
    public Task<IResult> ReadinessAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "readyz")] HttpRequest request) =>
        api.RunPublicAsync(request, ReadyAsync);

    private async Task<Results<Ok<HealthResponse>, ProblemHttpResult>> ReadyAsync(CancellationToken cancellationToken)
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
            await queues.GetQueueClient(names.Queue(StorageLayout.ReadinessQueue)).ApproximateCountAsync(budget.Token).ConfigureAwait(false);
            return TypedResults.Ok(new HealthResponse("ready"));
        }
        catch (Exception ex) when (ex is Azure.RequestFailedException or HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Storage is not reachable");
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, "storage_unavailable", "Storage is not reachable.");
        }
    }
}
