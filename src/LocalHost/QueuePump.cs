using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.LocalHost;

/// <summary>
/// The development host's queue trigger, one poll loop per <c>queueTrigger</c> function of
/// <c>functions.metadata</c>, with the host.json settings the Functions host uses: up to
/// <c>batchSize + newBatchThreshold</c> messages at once, a message deleted when its function returns, visible
/// again after <c>visibilityTimeout</c> when it throws, and moved to <c>{queue}-poison</c> once it has failed
/// <c>maxDequeueCount</c> times. Messages are base64, as the Functions host reads them.
/// </summary>
public sealed class QueuePump(
    IReadOnlyList<FunctionInvoker> functions,
    QueueServiceClient queues,
    IConfiguration configuration,
    QueueHostOptions options,
    IServiceScopeFactory scopes,
    ILogger<QueuePump> logger) : BackgroundService
{
    private static readonly TimeSpan MinPollingInterval = TimeSpan.FromMilliseconds(100);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(functions.Select(f => ListenAsync(f, stoppingToken)));

    /// <summary>Resolves <c>%setting%</c> in a binding value as the Functions host does; a missing setting is an error.</summary>
    public static string Resolve(string value, IConfiguration configuration)
    {
        var parts = value.Split('%');
        if (parts.Length % 2 == 0)
        {
            throw new InvalidOperationException($"Unbalanced '%' in binding value '{value}'.");
        }
        for (var i = 1; i < parts.Length; i += 2)
        {
            parts[i] = configuration[parts[i]] ?? throw new InvalidOperationException($"'%{parts[i]}%' in binding value '{value}' does not resolve to a setting.");
        }
        return string.Concat(parts);
    }

    private async Task ListenAsync(FunctionInvoker function, CancellationToken stoppingToken)
    {
        var queueName = Resolve(function.Metadata.Trigger.QueueName!, configuration);
        var queue = queues.GetQueueClient(queueName);
        var poison = queues.GetQueueClient(queueName + "-poison");
        var inFlight = new List<Task>();
        var idleDelay = MinPollingInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                inFlight.RemoveAll(t => t.IsCompleted);
                if (inFlight.Count > options.NewBatchThreshold)
                {
                    await Task.WhenAny(inFlight).WaitAsync(stoppingToken).ConfigureAwait(false);
                    continue;
                }
                QueueMessage[] messages = await queue.ReceiveMessagesAsync(options.BatchSize, options.MessageLease, stoppingToken).ConfigureAwait(false);
                if (messages.Length == 0)
                {
                    await Task.Delay(idleDelay, stoppingToken).ConfigureAwait(false);
                    idleDelay = TimeSpan.FromTicks(Math.Min(idleDelay.Ticks * 2, Math.Max(options.MaxPollingInterval.Ticks, MinPollingInterval.Ticks)));
                    continue;
                }
                idleDelay = MinPollingInterval;
                inFlight.AddRange(messages.Select(m => ProcessAsync(function, queue, poison, m, stoppingToken)));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                // The app's storage layout creates the queues at start; until it has, there is nothing to read.
                await Task.Delay(options.MaxPollingInterval, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // Whatever went wrong, one queue's loop must not stop the process (a host whose background
                // service throws shuts down): log it and poll again after the longest interval.
                logger.Log(TransientFailure.Is(ex) ? LogLevel.Warning : LogLevel.Error, ex, "Polling queue {Queue} failed; retrying after {Delay}", queueName, options.MaxPollingInterval);
                await Task.Delay(options.MaxPollingInterval, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
        await Task.WhenAll(inFlight).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
    }

    private async Task ProcessAsync(FunctionInvoker function, QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken stoppingToken)
    {
        using var scope = logger.BeginScope(new Dictionary<string, object>
        {
            ["Function"] = function.Metadata.Name,
            ["MessageId"] = message.MessageId,
            ["DequeueCount"] = message.DequeueCount,
        });
        try
        {
            // A message whose earlier attempts all died with their process (no failure was ever recorded)
            // arrives here past the limit: poison it without running it once more.
            if (message.DequeueCount > options.MaxDequeueCount)
            {
                await MoveToPoisonAsync(queue, poison, message, stoppingToken).ConfigureAwait(false);
                return;
            }
            using (var activity = Telemetry.StartInvocation(function.Metadata.Name, "queue"))
            {
                try
                {
                    await using var services = scopes.CreateAsyncScope();
                    await function.InvokeAsync(services.ServiceProvider, new InvocationInput(null, message, stoppingToken)).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    Telemetry.Completed(activity, function.Metadata.Name, ex);
                    throw;
                }
                Telemetry.Completed(activity, function.Metadata.Name, null);
            }
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: the lease runs out and another instance (or this one after restart) retries.
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Function {Function} failed on attempt {DequeueCount} of {MaxDequeueCount}", function.Metadata.Name, message.DequeueCount, options.MaxDequeueCount);
            await RecordFailureAsync(queue, poison, message).ConfigureAwait(false);
        }
    }

    private async Task RecordFailureAsync(QueueClient queue, QueueClient poison, QueueMessage message)
    {
        try
        {
            if (message.DequeueCount >= options.MaxDequeueCount)
            {
                await MoveToPoisonAsync(queue, poison, message, CancellationToken.None).ConfigureAwait(false);
            }
            else
            {
                await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: options.VisibilityTimeout, cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (TransientFailure.Is(ex) || ex is RequestFailedException)
        {
            // The lease expires by itself; the message comes back with a higher dequeue count.
            logger.LogWarning(ex, "Could not record the failure of message {MessageId}", message.MessageId);
        }
    }

    private async Task MoveToPoisonAsync(QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken cancellationToken)
    {
        await poison.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await poison.SendMessageAsync(message.Body, cancellationToken: cancellationToken).ConfigureAwait(false);
        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken).ConfigureAwait(false);
        logger.LogError("Message {MessageId} moved to {PoisonQueue} after {DequeueCount} attempts", message.MessageId, poison.Name, message.DequeueCount);
    }
}
