using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask.Client;
using ThreePL.Domain.Common;
using ThreePL.Functions.Http;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Connections;

public sealed record ConnectionWorkflowResponse(
    string ConnectionId,
    string RuntimeStatus,
    string? Step,
    DateTimeOffset? NextTimerAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastUpdatedAt,
    string? Output,
    string? FailureMessage);

/// <summary>
/// The operator's view of one connection's workflow: its runtime status, the step it is in (its custom status) and
/// when its next timer fires. Read from the task hub through the Durable client, so it shows what Durable will do,
/// next to the connection row that says what has been decided.
/// </summary>
public sealed class GetConnectionWorkflow
{
    public async Task<Results<Ok<ConnectionWorkflowResponse>, ProblemHttpResult>> HandleAsync(string id, DurableTaskClient client, CancellationToken cancellationToken)
    {
        if (!ConnectionId.TryParse(id, out var connectionId)
            || await client.GetInstanceAsync(connectionId.Value, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false) is not { } instance)
        {
            return Problems.NotFound("workflow");
        }
        var progress = instance.SerializedCustomStatus is { Length: > 0 } status
            ? JsonSerializer.Deserialize<WorkflowProgress>(status, EventEnvelope.Json)
            : null;
        return TypedResults.Ok(new ConnectionWorkflowResponse(
            connectionId.Value,
            ToWire(instance.RuntimeStatus),
            progress?.Step,
            progress?.NextTimerAt,
            instance.CreatedAt,
            instance.LastUpdatedAt,
            instance.SerializedOutput is { Length: > 0 } output ? JsonSerializer.Deserialize<string>(output) : null,
            instance.FailureDetails?.ErrorMessage));
    }

    private static string ToWire(OrchestrationRuntimeStatus status) => JsonNamingPolicy.SnakeCaseLower.ConvertName(status.ToString());
}
