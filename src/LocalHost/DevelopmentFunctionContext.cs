using System.Collections;
using System.Diagnostics;
using Microsoft.Azure.Functions.Worker;

namespace ThreePL.LocalHost;

/// <summary>
/// The development host's own <see cref="FunctionContext"/>: the invocation's id, the function's name as its id, the
/// invocation's services, items, features and cancellation, and the current trace. What only the Functions host
/// knows (binding data, the function definition it built, retry state) is not here: reading it fails loudly
/// instead of returning something the Functions host would not, so function bodies stay off it.
/// </summary>
public sealed class DevelopmentFunctionContext(string functionName, IServiceProvider services, CancellationToken cancellationToken) : FunctionContext
{
    public override string InvocationId { get; } = Guid.NewGuid().ToString();

    public override string FunctionId { get; } = functionName;

    public override TraceContext TraceContext { get; } = new CurrentTrace();

    public override BindingContext BindingContext => throw NotHere(nameof(BindingContext));

    public override RetryContext RetryContext => throw NotHere(nameof(RetryContext));

    public override IServiceProvider InstanceServices { get; set; } = services;

    public override FunctionDefinition FunctionDefinition => throw NotHere(nameof(FunctionDefinition));

    public override IDictionary<object, object> Items { get; set; } = new Dictionary<object, object>();

    public override IInvocationFeatures Features { get; } = new FeatureSet();

    public override CancellationToken CancellationToken { get; } = cancellationToken;

    private static NotSupportedException NotHere(string member) =>
        new($"The development host's FunctionContext has no {member}; keep function bodies to ids, services, items, features and cancellation.");

    private sealed class CurrentTrace : TraceContext
    {
        public override string TraceParent => Activity.Current?.Id ?? "";

        public override string TraceState => Activity.Current?.TraceStateString ?? "";
    }

    private sealed class FeatureSet : IInvocationFeatures
    {
        private readonly Dictionary<Type, object> _features = [];

        public T? Get<T>() => _features.TryGetValue(typeof(T), out var feature) ? (T)feature : default;

        public void Set<T>(T instance)
        {
            if (instance is null)
            {
                _features.Remove(typeof(T));
            }
            else
            {
                _features[typeof(T)] = instance;
            }
        }

        public IEnumerator<KeyValuePair<Type, object>> GetEnumerator() => _features.GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
