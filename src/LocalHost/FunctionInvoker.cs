using System.Reflection;
using System.Text.RegularExpressions;
using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace ThreePL.LocalHost;

/// <summary>
/// Calls one function's method as the isolated worker would: a new instance of its class per invocation, built
/// from the invocation's services, the trigger value for the trigger's parameter, route values for the other
/// string parameters of an HTTP function, the Durable client for a <c>durableClient</c> binding, the host's own
/// <see cref="DevelopmentFunctionContext"/>, and the cancellation token. A signature this host cannot bind fails
/// at start-up, never at the first message.
/// </summary>
public sealed partial class FunctionInvoker
{
    private readonly MethodInfo _method;
    private readonly ObjectFactory? _factory;
    private readonly Func<InvocationInput, FunctionContext, object?>[] _arguments;

    public FunctionInvoker(FunctionMetadata metadata)
    {
        Metadata = metadata;
        var split = metadata.EntryPoint.LastIndexOf('.');
        var assembly = Assembly.Load(new AssemblyName(Path.GetFileNameWithoutExtension(metadata.ScriptFile)));
        var type = assembly.GetType(metadata.EntryPoint[..split], throwOnError: true)!;
        _method = type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
            .Single(m => m.Name == metadata.EntryPoint[(split + 1)..] && m.GetCustomAttribute<Microsoft.Azure.Functions.Worker.FunctionAttribute>()?.Name == metadata.Name);
        _factory = _method.IsStatic ? null : ActivatorUtilities.CreateFactory(type, Type.EmptyTypes);
        var trigger = metadata.Trigger;
        var routeParameters = RouteParameters(trigger.Route);
        _arguments = _method.GetParameters().Select(p => Bind(p, trigger, routeParameters)).ToArray();
        TriggerParameterType = _method.GetParameters().Single(p => p.Name == trigger.Name).ParameterType;
    }

    public FunctionMetadata Metadata { get; }

    /// <summary>The type the trigger binds to: an activity's input arrives deserialized as this.</summary>
    public Type TriggerParameterType { get; }

    /// <summary>Runs the function; returns what it returned (awaited), or null for none.</summary>
    public async Task<object?> InvokeAsync(IServiceProvider services, InvocationInput input)
    {
        var context = new DevelopmentFunctionContext(Metadata.Name, services, input.CancellationToken);
        var instance = _factory?.Invoke(services, null);
        try
        {
            object? returned;
            try
            {
                returned = _method.Invoke(instance, _arguments.Select(a => a(input, context)).ToArray());
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex.InnerException);
                throw;
            }
            if (returned is not Task task)
            {
                return returned;
            }
            // An orchestrator must resume on the orchestration's own context; everything else need not.
            await task.ConfigureAwait(input.Orchestration is not null);
            return task.GetType().IsGenericType ? task.GetType().GetProperty(nameof(Task<object>.Result))!.GetValue(task) : null;
        }
        finally
        {
            switch (instance)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
    }

    private Func<InvocationInput, FunctionContext, object?> Bind(ParameterInfo parameter, BindingMetadata trigger, IReadOnlySet<string> routeParameters)
    {
        var type = parameter.ParameterType;
        if (type == typeof(CancellationToken))
        {
            return (input, _) => input.CancellationToken;
        }
        if (type == typeof(FunctionContext))
        {
            return (_, context) => context;
        }
        if (parameter.Name == trigger.Name)
        {
            return (trigger.Type, type) switch
            {
                ("httpTrigger", _) when type == typeof(HttpRequest) => (input, _) => input.Http!.Request,
                ("queueTrigger", _) when type == typeof(QueueMessage) => (input, _) => input.Queue,
                ("queueTrigger", _) when type == typeof(string) => (input, _) => input.Queue!.Body.ToString(),
                ("orchestrationTrigger", _) when type == typeof(TaskOrchestrationContext) => (input, _) => input.Orchestration,
                ("activityTrigger", _) => (input, _) => input.Activity,
                ("timerTrigger", _) when type == typeof(TimerInfo) => (input, _) => input.Timer,
                _ => throw Unsupported(parameter),
            };
        }
        if (Metadata.Bindings.Any(b => b.Type == "durableClient" && b.Name == parameter.Name) && type == typeof(DurableTaskClient))
        {
            return (_, context) => context.InstanceServices.GetRequiredService<DurableTaskClient>();
        }
        if (trigger.Type == "httpTrigger" && type == typeof(string) && routeParameters.Contains(parameter.Name!))
        {
            return (input, _) => input.Http!.Request.RouteValues.TryGetValue(parameter.Name!, out var value) ? value?.ToString() : null;
        }
        throw Unsupported(parameter);
    }

    private NotSupportedException Unsupported(ParameterInfo parameter) => new(
        $"Function {Metadata.Name}: the development host cannot bind parameter '{parameter.Name}' of type {parameter.ParameterType.Name}. " +
        "Keep function signatures to the trigger (HttpRequest, QueueMessage or string, TaskOrchestrationContext, an activity's input, TimerInfo), " +
        "route values, a [DurableClient] DurableTaskClient, FunctionContext and CancellationToken.");

    private static HashSet<string> RouteParameters(string? route) => route is null
        ? []
        : RouteParameter().Matches(route).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.OrdinalIgnoreCase);

    [GeneratedRegex(@"\{\*?(?<name>[A-Za-z_][A-Za-z0-9_]*)[^}]*\}")]
    private static partial Regex RouteParameter();
}

/// <summary>What one invocation gets: the HTTP context, the queue message, the orchestration, the activity input or the timer, and its cancellation.</summary>
public sealed record InvocationInput(HttpContext? Http, QueueMessage? Queue, CancellationToken CancellationToken)
{
    public TimerInfo? Timer { get; init; }

    public TaskOrchestrationContext? Orchestration { get; init; }

    public object? Activity { get; init; }
}
