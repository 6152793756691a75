using Microsoft.DurableTask.Client;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Http;
using ThreePL.Functions.Impersonation;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Connections;

public sealed class ConnectionFunctions(
    HttpApi api,
    InviteConnection invite,
    ListConnections list,
    GetConnection get,
    ChangeConnectionStatus change,
    GetConnectionSettings getSettings,
    UpdateConnectionSettings updateSettings,
    RotateWebhookSecret rotateSecret,
    StartImpersonation impersonate,
    OnboardBrand onboard,
    GetConnectionWorkflow getWorkflow,
    ResumeConnectionWorkflows resumeWorkflows)
{
    private static readonly Access Read = Access.Requires("connections:read", ScopedCallers.Filtered);
    private static readonly Access Write = Access.Requires("connections:write", ScopedCallers.Filtered);

    /// <summary>Creates a connection or an account: beyond any one connection.</summary>
    private static readonly Access WriteAccountWide = Access.Requires("connections:write", ScopedCallers.Refused);

    [Function(nameof(InviteConnection))]
    public Task<IResult> InviteConnectionAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/connections")] HttpRequest request) =>
        api.RunAsync(request, WriteAccountWide, (Caller caller, InviteConnectionRequest body, CancellationToken ct) => invite.HandleAsync(caller, body, ct));

    [Function(nameof(ListConnections))]
    public Task<IResult> ListConnectionsAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/connections")] HttpRequest request) =>
        api.RunAsync(request, Read, (Caller caller, CancellationToken ct) =>
            list.HandleAsync(caller, Query.Text(request, "status"), Query.Text(request, "cursor"), Query.Int(request, "limit"), ct));

    [Function(nameof(GetConnection))]
    public Task<IResult> GetConnectionAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/connections/{id}")] HttpRequest request, string id) =>
        api.RunAsync(request, Read, (Caller caller, CancellationToken ct) => get.HandleAsync(caller, id, ct));

    [Function("ApproveConnection")]
    public Task<IResult> ApproveConnectionAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/connections/{id}/approve")] HttpRequest request, string id) =>
        api.RunAsync(request, Write, (Caller caller, ApproveConnectionRequest? body, CancellationToken ct) =>
            change.HandleAsync(caller, id, (c, actor, now) => c.Approve(actor, body?.Confirm == true, now), ct), bodyRequired: false);

    [Function("DeclineConnection")]
    public Task<IResult> DeclineConnectionAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/connections/{id}/decline")] HttpRequest request, string id) =>
        Transition(request, id, (c, actor, now) => c.Decline(actor, now));

    [Function("CancelConnection")]
    public Task<IResult> CancelConnectionAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/connections/{id}/cancel")] HttpRequest request, string id) =>
        Transition(request, id, (c, actor, now) => c.Cancel(actor, now));

    [Function("DeactivateConnection")]
    public Task<IResult> DeactivateConnectionAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/connections/{id}/deactivate")] HttpRequest request, string id) =>
        Transition(request, id, (c, actor, now) => c.Deactivate(actor, now));

    [Function("ReactivateConnection")]
    public Task<IResult> ReactivateConnectionAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/connections/{id}/reactivate")] HttpRequest request, string id) =>
        Transition(request, id, (c, actor, now) => c.Reactivate(actor, now));

    [Function("DisconnectConnection")]
    public Task<IResult> DisconnectConnectionAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/connections/{id}/disconnect")] HttpRequest request, string id) =>
        Transition(request, id, (c, actor, now) => c.Disconnect(actor, now));

    [Function(nameof(GetConnectionSettings))]
    public Task<IResult> GetConnectionSettingsAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/connections/{id}/settings")] HttpRequest request, string id) =>
        api.RunAsync(request, Read, (Caller caller, CancellationToken ct) => getSettings.HandleAsync(caller, id, request.HttpContext.Response, ct));

    [Function(nameof(UpdateConnectionSettings))]
    public Task<IResult> UpdateConnectionSettingsAsync([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "v1/connections/{id}/settings")] HttpRequest request, string id) =>
        api.RunAsync(request, Write, (Caller caller, UpdateConnectionSettingsRequest body, CancellationToken ct) => updateSettings.HandleAsync(
            caller, id, request.Headers.IfMatch.ToString() is { Length: > 0 } ifMatch ? ifMatch : null, body, request.HttpContext.Response, ct));

    [Function(nameof(RotateWebhookSecret))]
    public Task<IResult> RotateWebhookSecretAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/connections/{id}/webhook-secret")] HttpRequest request, string id) =>
        api.RunAsync(request, Write, (Caller caller, CancellationToken ct) => rotateSecret.HandleAsync(caller, id, ct));

    [Function(nameof(StartImpersonation))]
    public Task<IResult> StartImpersonationAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/connections/{id}/impersonation")] HttpRequest request, string id) =>
        api.RunAsync(request, Write, (Caller caller, CancellationToken ct) => impersonate.HandleAsync(caller, id, ct));

    [Function(nameof(OnboardBrand))]
    public Task<IResult> OnboardBrandAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/brands")] HttpRequest request) =>
        api.RunAsync(request, WriteAccountWide, (Caller caller, OnboardBrandRequest body, CancellationToken ct) => onboard.HandleAsync(caller, body, ct));

    /// <summary>Operators see where a connection's workflow is; the parties see the connection itself.</summary>
    [Function(nameof(GetConnectionWorkflow))]
    public Task<IResult> GetConnectionWorkflowAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/admin/connections/{id}/workflow")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client) =>
        api.RunOperatorAsync(request, ct => getWorkflow.HandleAsync(id, client, ct));

    /// <summary>The operator's upgrade step: workflows for invitations made before there were any (see docs/operations.md).</summary>
    [Function(nameof(ResumeConnectionWorkflows))]
    public Task<IResult> ResumeConnectionWorkflowsAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/admin/connection-workflows/resume")] HttpRequest request,
        [DurableClient] DurableTaskClient client) =>
        api.RunOperatorAsync(request, ct => resumeWorkflows.HandleAsync(Query.Text(request, "cursor"), Query.Int(request, "limit"), client, ct));

    private Task<IResult> Transition(HttpRequest request, string id, Func<Connection, AccountId, DateTimeOffset, Outcome<ConnectionEvent>> transition) =>
        api.RunAsync(request, Write, (Caller caller, CancellationToken ct) => change.HandleAsync(caller, id, transition, ct));
}
