namespace ThreePL.Functions.Webhooks;

/// <summary>An endpoint as the API shows it. <see cref="Secret"/> is set only in the answer to its creation.</summary>
public sealed record WebhookEndpointResponse(
    string Id, string Url, IReadOnlyList<string> EventTypes, string? Description, DateTimeOffset CreatedAt,
    bool Disabled, string? DisabledReason, DateTimeOffset? FailingSince, string? Secret)
{
    public static WebhookEndpointResponse For(WebhookEndpoint endpoint, DestinationHealth? health, bool withSecret = false)
    {
        var current = health is not null && health.Url == endpoint.Url ? health : null;
        return new(endpoint.Id, endpoint.Url, endpoint.EventTypes, endpoint.Description, endpoint.CreatedAt,
            current?.Disabled ?? false, current?.DisabledReason, current?.FailingSince, withSecret ? endpoint.Secret : null);
    }
}
