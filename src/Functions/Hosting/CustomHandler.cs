using System.Text.Json;
using System.Text.Json.Nodes;

namespace ThreePL.Functions.Hosting;

/// <summary>
/// The custom-handler side of the Functions host contract. The host sets <c>FUNCTIONS_CUSTOMHANDLER_PORT</c>,
/// forwards HTTP requests unchanged (<c>enableForwardingHttpRequest</c>), and POSTs every other trigger to
/// <c>/{FunctionName}</c> as <c>{"Data":{binding:value},"Metadata":{…}}</c>, expecting
/// <c>{"Outputs":{},"Logs":[],"ReturnValue":null}</c>. A non-2xx answer is a failed invocation, which the host
/// retries and finally poisons itself, so under the host we run no listeners of our own.
/// </summary>
public static class CustomHandler
{
    public const string PortVariable = "FUNCTIONS_CUSTOMHANDLER_PORT";

    public static bool IsActive(IConfiguration configuration) => !string.IsNullOrEmpty(configuration[PortVariable]);

    public static void MapInvocations(IEndpointRouteBuilder endpoints)
    {
        foreach (var function in endpoints.ServiceProvider.GetServices<IQueueFunction>())
        {
            endpoints.MapPost($"/{function.Name}", (HttpContext context, CancellationToken cancellationToken) =>
                InvokeQueueFunctionAsync(function, context, cancellationToken)).ExcludeFromDescription();
        }
        foreach (var function in endpoints.ServiceProvider.GetServices<ITimerFunction>())
        {
            endpoints.MapPost($"/{function.Name}", async (CancellationToken cancellationToken) =>
            {
                await function.RunAsync(cancellationToken).ConfigureAwait(false);
                return InvocationResult();
            }).ExcludeFromDescription();
        }
    }

    private static async Task<IResult> InvokeQueueFunctionAsync(IQueueFunction function, HttpContext context, CancellationToken cancellationToken)
    {
        JsonNode? payload;
        try
        {
            payload = await JsonNode.ParseAsync(context.Request.Body, new JsonNodeOptions { PropertyNameCaseInsensitive = true }, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            return Results.BadRequest();
        }
        var trigger = ParseQueueTrigger(payload);
        if (trigger is null)
        {
            return Results.BadRequest();
        }
        using var activity = Infrastructure.Telemetry.StartInvocation(function.Name, "queue");
        try
        {
            await function.RunAsync(trigger, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Infrastructure.Telemetry.Completed(activity, function.Name, ex);
            throw;
        }
        Infrastructure.Telemetry.Completed(activity, function.Name, null);
        return InvocationResult();
    }

    /// <summary>
    /// The host puts the message under the trigger binding's name; we have one trigger per function, so the
    /// first data entry is it. It arrives as a JSON string, or as the parsed JSON when the text was JSON.
    /// </summary>
    internal static QueueTrigger? ParseQueueTrigger(JsonNode? payload)
    {
        if (payload?["Data"] is not JsonObject data || data.Count == 0)
        {
            return null;
        }
        var value = data.First().Value;
        var text = value switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            null => null,
            _ => value.ToJsonString(),
        };
        if (text is null)
        {
            return null;
        }
        var metadata = payload["Metadata"] as JsonObject;
        var id = metadata?["Id"]?.GetValue<string>() ?? "";
        var dequeueCount = metadata?["DequeueCount"] is JsonValue count && count.TryGetValue<long>(out var n) ? n : 1;
        DateTimeOffset? inserted = metadata?["InsertionTime"] is JsonValue t && t.TryGetValue<DateTimeOffset>(out var when) ? when : null;
        return new QueueTrigger(text, id, dequeueCount, inserted);
    }

    /// <summary>The host reads these member names as written in its documentation, so no camel-casing.</summary>
    private static readonly JsonSerializerOptions InvocationJson = new() { PropertyNamingPolicy = null };

    private static IResult InvocationResult() =>
        Results.Json(new { Outputs = new Dictionary<string, object>(), Logs = Array.Empty<string>(), ReturnValue = (object?)null }, InvocationJson);
}
