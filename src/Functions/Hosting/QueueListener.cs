using Azure;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Storage.Queues;

namespace ThreePL.Functions.Hosting;

/// <summary>
/// The standalone stand-in for the Functions host's queue trigger: polls each function's queue with the
/// <c>host.json</c> settings, runs up to <c>batchSize + newBatchThreshold</c> messages at once, deletes a
/// message when its function returns, makes it visible again after <c>visibilityTimeout</c> when it throws,
/// and moves it to <c>{queue}-poison</c> once it has failed <c>maxDequeueCount</c> times.
/// </summary>
public sealed class QueueListener(
    IEnumerable<IQueueFunction> functions,
    QueueServiceClient queues,
    StorageNames names,
    QueueHostOptions options,
    QueueWakeUp wakeUp,
    ILogger<QueueListener> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(functions.Select(f => ListenAsync(f, stoppingToken)));

    private async Task ListenAsync(IQueueFunction function, CancellationToken stoppingToken)
    {
        var queueName = names.Queue(function.QueueName);
        var queue = queues.GetQueueClient(queueName);
        var poison = queues.GetQueueClient(StorageNames.Poison(queueName));
        var inFlight = new List<Task>();
        var idleDelay = TimeSpan.FromMilliseconds(100);
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
                var messages = await queue.ReceiveMessagesAsync(options.BatchSize, options.MessageLease, stoppingToken).ConfigureAwait(false);
                if (messages.Count == 0)
                {
                    await wakeUp.WaitAsync(queueName, idleDelay, stoppingToken).ConfigureAwait(false);
                    idleDelay = TimeSpan.FromTicks(Math.Min(idleDelay.Ticks * 2, Math.Max(options.MaxPollingInterval.Ticks, TimeSpan.FromMilliseconds(100).Ticks)));
                    continue;
                }
                idleDelay = TimeSpan.FromMilliseconds(100);
                inFlight.AddRange(messages.Select(m => ProcessAsync(function, queue, poison, m, stoppingToken)));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // Whatever went wrong, one queue's listener must not stop the process (a host whose background
                // service throws shuts down): log it and poll again after the longest interval.
                logger.Log(TransientFailure.Is(ex) ? LogLevel.Warning : LogLevel.Error, ex, "Polling queue {Queue} failed; retrying after {Delay}", queueName, options.MaxPollingInterval);
                await Task.Delay(options.MaxPollingInterval, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
        await Task.WhenAll(inFlight).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
    }

    private async Task ProcessAsync(IQueueFunction function, QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken stoppingToken)
    {
        using var scope = logger.BeginScope(new Dictionary<string, object>
        {
            ["Function"] = function.Name,
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
            using (var activity = Infrastructure.Telemetry.StartInvocation(function.Name, "queue"))
            {
                try
                {
                    await function.RunAsync(new QueueTrigger(message.MessageText, message.MessageId, message.DequeueCount, message.InsertedOn), stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    Infrastructure.Telemetry.Completed(activity, function.Name, ex);
                    throw;
                }
                Infrastructure.Telemetry.Completed(activity, function.Name, null);
            }
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: the lease runs out and another instance (or this one after restart) retries.
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Function {Function} failed on attempt {DequeueCount} of {MaxDequeueCount}", function.Name, message.DequeueCount, options.MaxDequeueCount);
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
                await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, options.VisibilityTimeout, cancellationToken: CancellationToken.None).ConfigureAwait(false);
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
        await poison.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        await poison.SendMessageAsync(message.MessageText, cancellationToken: cancellationToken).ConfigureAwait(false);
        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken).ConfigureAwait(false);
        logger.LogError("Message {MessageId} moved to {PoisonQueue} after {DequeueCount} attempts", message.MessageId, poison.Name, message.DequeueCount);
    }
}
