using Microsoft.AspNetCore.Routing.Constraints;

namespace ThreePL.LocalHost;

/// <summary>
/// The HTTP functions routed the way the Functions host routes them, so that whatever one host would shadow, the
/// other shadows too. In azure-functions-host, <c>FunctionMetadataManager</c> orders the functions by name
/// (ordinal, ignoring case); <c>WebScriptHostHttpRoutesManager</c> maps each HTTP function in that order as an
/// ASP.NET Core <c>Route</c> with its route prefix and an <c>HttpMethodRouteConstraint</c>; and
/// <c>WebJobsRouteBuilder</c> (azure-webjobs-sdk-extensions) collects them in a <c>RouteCollection</c>, where the
/// first route that matches wins: no precedence of literal over parameter segments, and a catch-all route ahead of
/// others by name takes their requests. A request no route matches (path or method) gets the host's bare 404.
/// </summary>
public static class HttpRoutes
{
    /// <summary>host.json's <c>extensions.http.routePrefix</c>, under the section the development host loads it into.</summary>
    public const string RoutePrefixSetting = HostJson.Section + ":extensions:http:routePrefix";

    /// <summary>The Functions host's route prefix when host.json names none.</summary>
    public const string DefaultRoutePrefix = "api";

    /// <summary>The HTTP functions in the order the Functions host tries their routes.</summary>
    public static IReadOnlyList<FunctionMetadata> InHostOrder(IEnumerable<FunctionMetadata> functions) =>
        functions.Where(f => f.Trigger.Type == "httpTrigger").OrderBy(f => f.Name, StringComparer.OrdinalIgnoreCase).ToList();

    /// <summary>A function's route template as the host maps it: prefix, then its route (its name when it has none).</summary>
    public static string Template(FunctionMetadata function, string? routePrefix)
    {
        var route = string.IsNullOrEmpty(function.Trigger.Route) ? function.Name : function.Trigger.Route;
        return string.IsNullOrEmpty(routePrefix) ? route : routePrefix + "/" + route;
    }

    public static IRouter Build(IEnumerable<FunctionInvoker> functions, IConfiguration configuration, IInlineConstraintResolver constraintResolver)
    {
        var routePrefix = configuration[RoutePrefixSetting] ?? DefaultRoutePrefix;
        var invokers = functions.ToDictionary(f => f.Metadata.Name, StringComparer.OrdinalIgnoreCase);
        var routes = new RouteCollection();
        foreach (var metadata in InHostOrder(invokers.Values.Select(f => f.Metadata)))
        {
            var function = invokers[metadata.Name];
            var constraints = new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase);
            if (metadata.Trigger.Methods is { Count: > 0 } methods)
            {
                constraints.Add("httpMethod", new HttpMethodRouteConstraint(methods.Select(m => m.ToUpperInvariant()).ToArray()));
            }
            routes.Add(new Route(
                new RouteHandler(context => InvokeAsync(function, context)),
                metadata.Name,
                Template(metadata, routePrefix),
                defaults: new RouteValueDictionary(),
                constraints,
                dataTokens: new RouteValueDictionary(),
                constraintResolver));
        }
        return routes;
    }

    private static async Task InvokeAsync(FunctionInvoker function, HttpContext context)
    {
        var returned = await function.InvokeAsync(context.RequestServices, new InvocationInput(context, null, context.RequestAborted)).ConfigureAwait(false);
        switch (returned)
        {
            case IResult result:
                await result.ExecuteAsync(context).ConfigureAwait(false);
                break;
            case null:
                break;
            default:
                throw new NotSupportedException($"Function {function.Metadata.Name} returned {returned.GetType().Name}; HTTP functions return IResult.");
        }
    }
}
