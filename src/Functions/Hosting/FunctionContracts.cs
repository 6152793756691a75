namespace ThreePL.Functions.Hosting;

/// <summary>A queue message as either host hands it to a function.</summary>
public sealed record QueueTrigger(string MessageText, string MessageId, long DequeueCount, DateTimeOffset? InsertedOn);

/// <summary>
/// A queue-triggered function. <see cref="Name"/> is its folder and <c>function.json</c> name under the
/// Functions host; <see cref="QueueName"/> is the queue's base name (the configured prefix is added).
/// Throwing means "try again later": after <c>maxDequeueCount</c> failures the message goes to
/// <c>{queue}-poison</c>, so a function must be idempotent.
/// </summary>
public interface IQueueFunction
{
    string Name { get; }

    string QueueName { get; }

    Task RunAsync(QueueTrigger trigger, CancellationToken cancellationToken);
}

/// <summary>
/// A timer-triggered function. <see cref="Schedule"/> is the NCRONTAB expression of its <c>function.json</c>;
/// the standalone host runs it every <see cref="TimerSchedule.Period"/> of that expression.
/// </summary>
public interface ITimerFunction
{
    string Name { get; }

    string Schedule { get; }

    Task RunAsync(CancellationToken cancellationToken);
}
