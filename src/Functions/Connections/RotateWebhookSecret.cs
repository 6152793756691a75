using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Functions.Audit;
using ThreePL.Functions.Http;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Connections;

public sealed record RotatedSecretResponse(string Secret, DateTimeOffset? PreviousSecretExpiresAt);

/// <summary>
/// The 3PL rolls the per-connection signing secret. The previous one keeps signing (as a second signature)
/// for <see cref="GracePeriod"/>, so the 3PL can switch its verifier without missing a delivery.
/// </summary>
public sealed class RotateWebhookSecret(ConnectionAccess access, ConnectionCommands commands)
{
    public static readonly TimeSpan GracePeriod = TimeSpan.FromHours(24);

    public async Task<Results<Created<RotatedSecretResponse>, ProblemHttpResult>> HandleAsync(Caller caller, string id, CancellationToken cancellationToken)
    {
        var found = await access.FindAsync(caller, id, cancellationToken).ConfigureAwait(false);
        if (found is null)
        {
            return Problems.NotFound("connection");
        }
        if (found.Connection.ThreePlAccountId != caller.AccountId)
        {
            return Problems.Forbidden("settings_managed_by_threepl", "Only the 3PL of a connection rotates its webhook secret.");
        }
        var secret = WebhookSecret.Create();
        var result = await commands.RunAsync(found.Connection.Id, (current, now) =>
        {
            var secrets = current.Secrets.Current is null
                ? new WebhookSecrets(secret, null, null)
                : new WebhookSecrets(secret, current.Secrets.Current, now + GracePeriod);
            var audit = AuditRecord.Create(now, AuditActions.WebhookSecretRotated, ConnectionAccess.Actor(caller), current.Connection.Id);
            return (new ConnectionDecision(current with { Secrets = secrets }, [], SecretsChanged: true, Audit: [audit]), (DomainError?)null);
        }, cancellationToken).ConfigureAwait(false);
        if (result.Connection is null)
        {
            return Problems.NotFound("connection");
        }
        return TypedResults.Created($"/v1/connections/{id}/settings", new RotatedSecretResponse(secret, result.Connection.Secrets.PreviousExpiresAt));
    }
}
