using System.Text.Json;
using DurableTask.Core.Exceptions;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using ThreePL.Functions.Messaging;

namespace ThreePL.Functions.Connections;

/// <summary>
/// Delivers the workflow signals a connection command committed in its outbox: starts the connection's workflow
/// (instance id = connection id) or raises <see cref="ConnectionWorkflow.DecidedEvent"/> to it. Both are idempotent,
/// as the outbox's at-least-once delivery needs: a start for an instance that exists does nothing, and a second
/// <c>decided</c> finds the workflow past waiting (it reads the row, not the event).
/// </summary>
public sealed class SignalConnectionWorkflow(ILogger<SignalConnectionWorkflow> logger)
{
    /// <summary>Every status: an existing workflow, running or finished, is never started again.</summary>
    private static readonly OrchestrationRuntimeStatus[] AnyStatus =
    [
        OrchestrationRuntimeStatus.Pending, OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.Suspended,
        OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Failed, OrchestrationRuntimeStatus.Terminated,
    ];

    [Function(nameof(SignalConnectionWorkflow))]
    public Task RunAsync(
        [QueueTrigger(QueueBinding.Prefix + ConnectionMessages.WorkflowQueue, Connection = QueueBinding.Connection)] string message,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        HandleAsync(JsonSerializer.Deserialize<WorkflowSignal>(message, EventEnvelope.Json) ?? throw new JsonException("Empty workflow signal."), client, cancellationToken);

    public async Task HandleAsync(WorkflowSignal signal, DurableTaskClient client, CancellationToken cancellationToken)
    {
        switch (signal.Kind)
        {
            case WorkflowSignal.Start:
                await StartAsync(signal.ConnectionId, client, cancellationToken).ConfigureAwait(false);
                break;
            case WorkflowSignal.Decided:
                // Raised even when the workflow is not there yet: it reads the row when it starts, so an event that
                // arrives first and is dropped loses nothing.
                await client.RaiseEventAsync(signal.ConnectionId, ConnectionWorkflow.DecidedEvent, null, cancellationToken).ConfigureAwait(false);
                break;
            default:
                throw new InvalidOperationException($"Unknown workflow signal '{signal.Kind}'.");
        }
    }

    private Task StartAsync(string connectionId, DurableTaskClient client, CancellationToken cancellationToken) =>
        StartOnceAsync(connectionId, client, logger, cancellationToken);

    /// <summary>Starts the workflow of <paramref name="connectionId"/> unless it has one; true when this call started it.</summary>
    public static async Task<bool> StartOnceAsync(string connectionId, DurableTaskClient client, ILogger logger, CancellationToken cancellationToken)
    {
        if (await client.GetInstanceAsync(connectionId, cancellationToken).ConfigureAwait(false) is not null)
        {
            return false;
        }
        try
        {
            var options = new StartOrchestrationOptions(connectionId).WithDedupeStatuses(AnyStatus);
            await client.ScheduleNewOrchestrationInstanceAsync(ConnectionWorkflow.Name, null, options, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OrchestrationAlreadyExistsException)
        {
            // A duplicate start won the race; one workflow per connection is exactly what we want.
            logger.LogInformation("The workflow of connection {ConnectionId} already exists", connectionId);
            return false;
        }
    }
}
