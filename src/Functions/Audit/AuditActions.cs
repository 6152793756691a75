namespace ThreePL.Functions.Audit;

/// <summary>Audit actions that are not connection event types (those are recorded under their event type).</summary>
public static class AuditActions
{
    public const string SettingsUpdated = "connection.settings_updated";
    public const string WebhookSecretRotated = "connection.webhook_secret_rotated";
    public const string AccountActivated = "account.activated";
    public const string ActivationLinkRequested = "account.activation_link_requested";
    public const string ApiKeyCreated = "api_key.created";
    public const string ApiKeyUpdated = "api_key.updated";
    public const string ApiKeyDeleted = "api_key.deleted";
    public const string ImpersonationStarted = "impersonation.started";
    public const string ImpersonatedRequest = "impersonation.request";
}
