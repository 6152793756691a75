using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.Options;

namespace ThreePL.LocalHost;

/// <summary>
/// Runs the <c>orchestrationTrigger</c> and <c>activityTrigger</c> functions of <c>functions.metadata</c> on the Durable
/// Task SDK's worker, and gives <c>durableClient</c> bindings its <see cref="DurableTaskClient"/>, over the
/// <see cref="DurableSidecar"/>. Each function is registered under its function name, as the Functions host
/// registers it, and invoked through the same <see cref="FunctionInvoker"/> as HTTP and queue functions.
/// </summary>
public static class DurableFunctions
{
    public static bool IsDurableTrigger(string type) => type is "orchestrationTrigger" or "activityTrigger";

    public static void Add(IServiceCollection services, IConfiguration configuration, IReadOnlyList<FunctionInvoker> functions, bool runWorkflows)
    {
        var options = DurableHostOptions.FromConfiguration(configuration);
        // One sidecar per process: it must exist before the worker and client options that name its channel.
        var sidecar = new DurableSidecar(options, DurableHostOptions.StorageFromConfiguration(configuration), LoggerFactoryFor(services), runWorkflows);
        services.AddSingleton(options);
        services.AddSingleton(sidecar);
        services.AddHostedService(_ => sidecar);
        services.AddDurableTaskClient(b =>
        {
            b.UseGrpc(sidecar.Channel);
            b.RegisterDirectly();
        });
        if (!runWorkflows)
        {
            return;
        }
        services.AddDurableTaskWorker(b => b.UseGrpc(sidecar.Channel));
        var durable = functions.Where(f => IsDurableTrigger(f.Metadata.Trigger.Type)).ToList();
        services.AddSingleton<IConfigureOptions<DurableTaskRegistry>>(sp => new ConfigureNamedOptions<DurableTaskRegistry>(Options.DefaultName, registry =>
        {
            foreach (var function in durable)
            {
                if (function.Metadata.Trigger.Type == "orchestrationTrigger")
                {
                    registry.AddOrchestrator(function.Metadata.Name, () => new FunctionOrchestrator(function, sp));
                }
                else
                {
                    registry.AddActivity(function.Metadata.Name, _ => new FunctionActivity(function, sp));
                }
            }
        }));
    }

    /// <summary>The sidecar is built before the container; it logs through a factory of its own that filters like the app's.</summary>
    private static ILoggerFactory LoggerFactoryFor(IServiceCollection services) =>
        LoggerFactory.Create(b => b.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning));

    /// <summary>
    /// An orchestrator function. It takes no input parameter (a function reads its input with <c>GetInput</c>), so it
    /// is registered with <see cref="object"/> input; our orchestrators take none and use their instance id instead.
    /// </summary>
    private sealed class FunctionOrchestrator(FunctionInvoker function, IServiceProvider services) : ITaskOrchestrator
    {
        public Type InputType => typeof(object);

        public Type OutputType => typeof(object);

        public Task<object?> RunAsync(TaskOrchestrationContext context, object? input) =>
            function.InvokeAsync(services, new InvocationInput(null, null, CancellationToken.None) { Orchestration = context });
    }

    /// <summary>An activity function, registered with the type of its trigger parameter so its input arrives as that type.</summary>
    private sealed class FunctionActivity(FunctionInvoker function, IServiceProvider services) : ITaskActivity
    {
        public Type InputType => function.TriggerParameterType;

        public Type OutputType => typeof(object);

        public async Task<object?> RunAsync(TaskActivityContext context, object? input)
        {
            await using var scope = services.CreateAsyncScope();
            return await function.InvokeAsync(scope.ServiceProvider, new InvocationInput(null, null, CancellationToken.None) { Activity = input }).ConfigureAwait(false);
        }
    }
}
