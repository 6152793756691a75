using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Functions.Http;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Webhooks;

public sealed record CreateWebhookEndpointRequest(string? Url, IReadOnlyList<string>? EventTypes, string? Description);

/// <summary>
/// An account-wide endpoint with its own signing secret, returned once in this answer. Event-type filters
/// are exact types or <c>prefix.*</c>; none means every public event of the account.
/// </summary>
public sealed partial class CreateWebhookEndpoint(WebhookEndpointStore store, WebhookTargets targets, WebhookUrlPolicy policy, TimeProvider time)
{
    public const int MaxEndpointsPerAccount = 20;
    public const int MaxUrlLength = 2048;
    public const int MaxFilters = 50;
    public const int MaxDescriptionLength = 200;

    public async Task<Results<Created<WebhookEndpointResponse>, ProblemHttpResult>> HandleAsync(Caller caller, CreateWebhookEndpointRequest request, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var url = errors.Text("url", request.Url, MaxUrlLength);
        if (url is { Length: > 0 and <= MaxUrlLength })
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var parsed))
            {
                errors.Add("url", "Must be an absolute https URL.");
            }
            else if (await policy.CheckAsync(parsed, cancellationToken).ConfigureAwait(false) is { } problem)
            {
                errors.Add("url", problem);
            }
        }
        var types = request.EventTypes ?? [];
        if (types.Count > MaxFilters)
        {
            errors.Add("eventTypes", $"At most {MaxFilters} entries.");
        }
        for (var i = 0; i < types.Count && i < MaxFilters; i++)
        {
            if (types[i] is not { Length: <= 64 } type || !TypePattern().IsMatch(type))
            {
                errors.Add($"eventTypes[{i}]", "Must be an event type such as order.updated, or a wildcard such as order.*.");
            }
        }
        var description = errors.Text("description", request.Description, MaxDescriptionLength, required: false);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }
        if ((await store.ListEndpointsAsync(caller.AccountId, cancellationToken).ConfigureAwait(false)).Count >= MaxEndpointsPerAccount)
        {
            return Problems.Conflict("too_many_endpoints", $"An account has at most {MaxEndpointsPerAccount} webhook endpoints.");
        }
        var endpoint = new WebhookEndpoint(Identifier.New("ep"), caller.AccountId, url!, WebhookSecret.Create(), types.Distinct(StringComparer.Ordinal).ToList(), description, time.GetUtcNow());
        await store.AddEndpointAsync(endpoint, cancellationToken).ConfigureAwait(false);
        targets.ForgetEndpointsOf(caller.AccountId);
        return TypedResults.Created($"/v1/webhook-endpoints/{endpoint.Id}", WebhookEndpointResponse.For(endpoint, null, withSecret: true));
    }

    [GeneratedRegex(@"^[a-z][a-z_]*(\.[a-z][a-z_]*)*(\.\*)?$")]
    private static partial Regex TypePattern();
}
