using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Audit;
using ThreePL.Functions.Http;
using ThreePL.Functions.Messaging;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Connections;

/// <summary>Absent or null keeps a value; for the three text fields an empty string clears it.</summary>
public sealed record UpdateConnectionSettingsRequest(
    bool? ManageOrders,
    string? ShippingRules,
    string? OrderFeeBilledTo,
    string? SupportTickets,
    string? InternalCustomerId,
    string? WebhookUrl,
    string? AcceptWithin = null);

/// <summary>
/// Only the 3PL edits settings. Every change makes a new version (orders keep the version they were
/// delegated under); <c>If-Match</c> with a version makes the update conditional. The first webhook URL
/// gets a signing secret, returned once in this answer.
/// </summary>
public sealed class UpdateConnectionSettings(ConnectionAccess access, ConnectionCommands commands, WebhookUrlPolicy urlPolicy)
{
    public async Task<Results<Ok<ConnectionSettingsResponse>, ProblemHttpResult>> HandleAsync(
        Caller caller, string id, string? ifMatch, UpdateConnectionSettingsRequest request, HttpResponse response, CancellationToken cancellationToken)
    {
        var found = await access.FindAsync(caller, id, cancellationToken).ConfigureAwait(false);
        if (found is null)
        {
            return Problems.NotFound("connection");
        }
        if (found.Connection.ThreePlAccountId != caller.AccountId)
        {
            return Problems.Forbidden("settings_managed_by_threepl", "Only the 3PL of a connection edits its settings; the merchant reads them.");
        }
        var errors = new FieldErrors();
        var change = new ConnectionSettingsChange(
            request.ManageOrders,
            Owner(errors, "shippingRules", request.ShippingRules),
            Owner(errors, "orderFeeBilledTo", request.OrderFeeBilledTo),
            Owner(errors, "supportTickets", request.SupportTickets),
            request.InternalCustomerId,
            request.WebhookUrl,
            request.AcceptWithin);
        int? expectedVersion = null;
        if (ifMatch is not null && ifMatch.Trim() != "*")
        {
            if (int.TryParse(ifMatch.Trim().Trim('"').Replace("W/", "", StringComparison.Ordinal).Trim('"'), out var version))
            {
                expectedVersion = version;
            }
            else
            {
                errors.Add("If-Match", "Must be a settings version from the ETag header, e.g. \"3\".");
            }
        }
        if (request.WebhookUrl is { Length: > 0 and <= ConnectionSettings.WebhookUrlMaxLength } url
            && Uri.TryCreate(url, UriKind.Absolute, out var parsedUrl)
            && await urlPolicy.CheckAsync(parsedUrl, cancellationToken).ConfigureAwait(false) is { } urlProblem)
        {
            errors.Add("webhookUrl", urlProblem);
        }
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        string? newSecret = null;
        IReadOnlyDictionary<string, string[]>? invalid = null;
        var result = await commands.RunAsync(found.Connection.Id, (current, now) =>
        {
            if (expectedVersion is { } expected && expected != current.Settings.Version)
            {
                return (null, new DomainError(DomainProblems.PreconditionFailed, $"The settings are at version {current.Settings.Version}, not {expected}."));
            }
            var outcome = current.Settings.Apply(change);
            if (!outcome.Succeeded)
            {
                invalid = outcome.Errors;
                return (null, outcome.Error);
            }
            if (!outcome.Changed)
            {
                return (null, null);
            }
            var secrets = current.Secrets;
            if (outcome.Settings.WebhookUrl is not null && secrets.Current is null)
            {
                newSecret = WebhookSecret.Create();
                secrets = secrets with { Current = newSecret };
            }
            var updated = current with { Settings = outcome.Settings, Secrets = secrets };
            var audit = AuditRecord.Create(now, AuditActions.SettingsUpdated, ConnectionAccess.Actor(caller), current.Connection.Id,
                before: JsonSerializer.Serialize(ConnectionSettingsResponse.From(current), EventEnvelope.Json),
                after: JsonSerializer.Serialize(ConnectionSettingsResponse.From(updated), EventEnvelope.Json));
            var changed = new ConnectionSettingsUpdated(current.Connection.Id, now, outcome.Settings.Version);
            return (new ConnectionDecision(updated, [changed], SettingsChanged: true, Audit: [audit]), null);
        }, cancellationToken).ConfigureAwait(false);

        if (result.NotFound)
        {
            return Problems.NotFound("connection");
        }
        if (result.Error is { } error)
        {
            return error.Code switch
            {
                FieldErrors.Code when invalid is not null => Problems.Validation(invalid),
                _ => ConnectionAccess.Problem(error, result.Connection!.Connection),
            };
        }
        response.Headers.ETag = ConnectionSettingsResponse.ETagOf(result.Connection!.Settings);
        return TypedResults.Ok(ConnectionSettingsResponse.From(result.Connection, result.Changed ? newSecret : null));
    }

    private static SettingsOwner? Owner(FieldErrors errors, string field, string? value)
    {
        if (value is null)
        {
            return null;
        }
        if (PartyNames.TryParse(value, out SettingsOwner owner))
        {
            return owner;
        }
        errors.Add(field, "Must be 'threepl' or 'merchant'.");
        return null;
    }
}
