using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ThreePL.Functions.Infrastructure;

/// <summary>
/// OpenTelemetry traces and metrics over OTLP, on only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is configured
/// (environment or settings). Spans: incoming requests (<c>Microsoft.AspNetCore</c>), every storage call
/// (Azure.Core's <c>Azure.*</c> sources, which it emits only behind the experimental switch we set here),
/// outgoing webhook requests (<c>System.Net.Http</c>) and our own function invocations (<see cref="SourceName"/>).
/// The providers are built by hand (<c>OpenTelemetry.Extensions.Hosting</c> is not on our feed) and registered
/// as singletons, so the container flushes and disposes them at shutdown.
/// </summary>
public static class Telemetry
{
    public const string SourceName = "ThreePL.Functions";
    public const string EndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string AzureActivitySourceSwitch = "Azure.Experimental.EnableActivitySource";

    public static readonly ActivitySource Source = new(SourceName);
    public static readonly Meter Meter = new(SourceName);

    private static readonly Counter<long> s_invocations = Meter.CreateCounter<long>(
        "threepl.function.invocations", description: "Queue and timer function invocations, by function and outcome.");

    /// <summary>A span around one function invocation; the caller records the outcome with <see cref="Completed"/>.</summary>
    public static Activity? StartInvocation(string functionName, string trigger) =>
        Source.StartActivity($"{trigger} {functionName}", ActivityKind.Consumer)?
            .SetTag("faas.name", functionName)
            .SetTag("faas.trigger", trigger);

    public static void Completed(Activity? activity, string functionName, Exception? error)
    {
        if (error is not null)
        {
            activity?.SetStatus(ActivityStatusCode.Error, error.GetType().Name);
        }
        s_invocations.Add(1, new KeyValuePair<string, object?>("function", functionName), new KeyValuePair<string, object?>("outcome", error is null ? "success" : "failure"));
    }

    public static void Add(IServiceCollection services, IConfiguration configuration)
    {
        var endpoint = configuration[EndpointSetting];
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return;
        }
        // Read by Azure.Core once, when its first client diagnostics are created: before any storage client exists.
        AppContext.SetSwitch(AzureActivitySourceSwitch, true);

        var protocol = string.Equals(configuration["OTEL_EXPORTER_OTLP_PROTOCOL"], "http/protobuf", StringComparison.OrdinalIgnoreCase)
            ? OtlpExportProtocol.HttpProtobuf
            : OtlpExportProtocol.Grpc;
        var headers = configuration["OTEL_EXPORTER_OTLP_HEADERS"];
        var resource = ResourceBuilder.CreateDefault().AddService(
            serviceName: configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : "threepl-connect",
            serviceInstanceId: configuration["WEBSITE_INSTANCE_ID"] is { Length: > 0 } instance ? instance : Environment.MachineName);

        void Configure(OtlpExporterOptions options, string signalPath)
        {
            options.Protocol = protocol;
            // With an explicit endpoint the exporter takes it as is; over HTTP each signal has its own path.
            options.Endpoint = protocol == OtlpExportProtocol.HttpProtobuf
                ? new Uri(endpoint.TrimEnd('/') + signalPath)
                : new Uri(endpoint);
            if (!string.IsNullOrEmpty(headers))
            {
                options.Headers = headers;
            }
        }

        var tracerProvider = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource(SourceName, "Azure.*", "Microsoft.AspNetCore", "System.Net.Http")
            .AddOtlpExporter(o => Configure(o, "/v1/traces"))
            .Build();
        var meterProvider = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(SourceName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http")
            .AddOtlpExporter(o => Configure(o, "/v1/metrics"))
            .Build();
        services.AddSingleton(tracerProvider);
        services.AddSingleton(meterProvider);
        services.AddHostedService(_ => new Lifetime(tracerProvider, meterProvider));
    }

    /// <summary>Flushes what is buffered when the app stops (instances given to DI are not disposed by it).</summary>
    private sealed class Lifetime(TracerProvider tracerProvider, MeterProvider meterProvider) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken)
        {
            tracerProvider.ForceFlush(5_000);
            meterProvider.ForceFlush(5_000);
            tracerProvider.Dispose();
            meterProvider.Dispose();
            return Task.CompletedTask;
        }
    }
}
