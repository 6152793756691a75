using Azure;
using ThreePL.Domain.Connections;

namespace ThreePL.Functions.Connections;

/// <summary>
/// The per-connection webhook signing secrets. After a rotation the previous secret keeps signing for a
/// grace period, so a 3PL can roll its verifier without dropping deliveries.
/// </summary>
public sealed record WebhookSecrets(string? Current, string? Previous, DateTimeOffset? PreviousExpiresAt)
{
    public static WebhookSecrets None { get; } = new(null, null, null);

    public IEnumerable<string> ValidAt(DateTimeOffset now)
    {
        if (Current is not null)
        {
            yield return Current;
        }
        if (Previous is not null && PreviousExpiresAt > now)
        {
            yield return Previous;
        }
    }
}

/// <summary>A connection row as read: the aggregate, its current settings, its secrets and the row's ETag.</summary>
public sealed record StoredConnection(
    Connection Connection,
    ConnectionSettings Settings,
    WebhookSecrets Secrets,
    byte[] TokenHash,
    ETag ETag);
