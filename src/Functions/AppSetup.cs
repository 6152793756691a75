using System.Text.Json;
using System.Text.Json.Serialization;
using Azure.Identity;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection.Extensions;
using ThreePL.Functions.Accounts;
using ThreePL.Functions.ApiKeys;
using ThreePL.Functions.Audit;
using ThreePL.Functions.Billing;
using ThreePL.Functions.ConnectPages;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Email;
using ThreePL.Functions.Health;
using ThreePL.Functions.Hosting;
using ThreePL.Functions.Http;
using ThreePL.Functions.Impersonation;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Inventory;
using ThreePL.Functions.Messaging;
using ThreePL.Functions.Orders;
using ThreePL.Functions.Storage;
using ThreePL.Functions.Storage.Queues;
using ThreePL.Functions.Storage.Tables;
using ThreePL.Functions.SupportTickets;
using ThreePL.Functions.Webhooks;

namespace ThreePL.Functions;

/// <summary>
/// Composition of the app, shared by both hosting modes: standalone (the app runs its own queue and timer
/// listeners) and Azure Functions custom handler (the host triggers functions by HTTP).
/// </summary>
public static class AppSetup
{
    public const string DefaultUrl = "http://127.0.0.1:7071";

    public static void Configure(WebApplicationBuilder builder)
    {
        AddFileConfiguration(builder.Configuration, builder.Environment.ContentRootPath);
        var customHandler = CustomHandler.IsActive(builder.Configuration);
        builder.WebHost.UseUrls(customHandler
            ? $"http://127.0.0.1:{builder.Configuration[CustomHandler.PortVariable]}"
            : builder.Configuration["ThreePL:Urls"] ?? DefaultUrl);
        builder.Logging.AddSimpleConsole(o => o.IncludeScopes = true);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Azure.Core", LogLevel.Warning);

        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
        {
            c.ProblemDetails.Extensions.TryAdd("code", DefaultCode(c.ProblemDetails.Status));
            c.ProblemDetails.Extensions["correlationId"] = CorrelationId.Get(c.HttpContext);
        });
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        });
        services.AddOpenApi("v1");
        Telemetry.Add(services, builder.Configuration);

        AddStorage(services, builder.Configuration);
        services.AddSingleton(QueueHostOptions.FromConfiguration(builder.Configuration));
        services.AddSingleton<QueueWakeUp>();
        services.AddSingleton<StorageLayout>();
        services.AddHostedService(sp => sp.GetRequiredService<StorageLayout>());
        // Listeners off gives an HTTP-only instance (and lets tests stop a "crashed" process from working).
        if (!customHandler && builder.Configuration.GetValue<bool?>("ThreePL:Hosting:Listeners") != false)
        {
            services.AddHostedService<QueueListener>();
            services.AddHostedService<TimerScheduler>();
        }

        services.AddSingleton<AccountStore>();
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<ApiKeyAuthentication>();
        services.AddSingleton<IConnectionMembership, ConnectionMembership>();
        services.AddSingleton<CreateAccount>();
        services.AddSingleton<GetAccount>();
        services.AddSingleton<CreateApiKey>();
        services.AddSingleton<ListApiKeys>();
        services.AddSingleton<UpdateApiKey>();
        services.AddSingleton<DeleteApiKey>();

        services.AddSingleton(OutboxOptions.FromConfiguration(builder.Configuration));
        services.AddSingleton<Outbox>();
        services.AddSingleton<IQueueFunction, OutboxRelayFunction>();
        services.AddSingleton<IQueueFunction, EventDispatcher>();
        services.AddSingleton(EmailOptions.FromConfiguration(builder.Configuration));
        services.AddSingleton<IEmailSender>(sp => sp.GetRequiredService<EmailOptions>().SmtpHost is { Length: > 0 }
            ? new SmtpEmailSender(sp.GetRequiredService<EmailOptions>())
            : new PickupDirectoryEmailSender(sp.GetRequiredService<EmailOptions>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<InvitationEmails>();
        services.AddSingleton<SentEmailLog>();
        services.AddSingleton(WebhookUrlPolicy.FromConfiguration(builder.Configuration));

        services.AddSingleton(ConnectionOptions.FromConfiguration(builder.Configuration));
        services.AddSingleton(_ => ConnectTokens.FromConfiguration(builder.Configuration));
        services.AddSingleton<ConnectionStore>();
        services.AddSingleton<ConnectionAccess>();
        services.AddSingleton<ConnectionCommands>();
        services.AddSingleton<IQueueFunction, ConnectionTimerFunction>();
        services.AddSingleton<InviteConnection>();
        services.AddSingleton<ListConnections>();
        services.AddSingleton<GetConnection>();
        services.AddSingleton<ChangeConnectionStatus>();
        services.AddSingleton<GetConnectionSettings>();
        services.AddSingleton<UpdateConnectionSettings>();
        services.AddSingleton<RotateWebhookSecret>();
        services.AddSingleton<ConnectPage>();
        services.AddSingleton<OnboardBrand>();
        services.AddSingleton<ListAuditEvents>();
        services.AddSingleton<ImpersonationStore>();
        services.AddSingleton<StartImpersonation>();
        services.AddWebhooks(builder.Configuration);

        services.AddSingleton(OrderOptions.FromConfiguration(builder.Configuration));
        services.AddSingleton<OrderStore>();
        services.AddSingleton<OrderIndex>();
        services.AddSingleton<IOutboxFollowUp, OrderIndexFollowUp>();
        services.AddSingleton<OrderCommands>();
        services.AddSingleton<OrderAccess>();
        services.AddSingleton<RoutingStore>();
        services.AddSingleton<InventoryStore>();
        services.TryAddSingleton<IInventoryLookup, InventoryLookup>();
        services.AddSingleton<OrderRouter>();
        services.AddSingleton<IQueueFunction, RouteOrderFunction>();
        services.AddSingleton<IQueueFunction, HandBackOrdersFunction>();
        services.AddSingleton<SubmitOrder>();
        services.AddSingleton<GetOrder>();
        services.AddSingleton<ListOrders>();
        services.AddSingleton<DelegateOrder>();
        services.AddSingleton<ChangeOrderStatus>();
        services.AddSingleton<PutRoutingRules>();
        services.AddSingleton<PutCarrierAccounts>();
        services.AddSingleton<ReportInventory>();
        services.AddSingleton<ListInventory>();
        services.AddSingleton<UsageStore>();
        services.AddSingleton<IQueueFunction, RecordUsageFunction>();
        services.AddSingleton<GetUsage>();
        services.AddSingleton<SupportTicketStore>();
        services.AddSingleton<SupportTicketAccess>();
        services.AddSingleton<OpenSupportTicket>();
        services.AddSingleton<AnswerSupportTicket>();
        services.AddSingleton<ListSupportTickets>();
    }

    public static void Configure(WebApplication app)
    {
        app.UseCorrelationId();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRequestLimits();
        app.UseMiddleware<ApiKeyAuthentication>();

        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapHealthApi();
        app.MapAccountsApi();
        app.MapApiKeysApi();
        app.MapConnectionsApi();
        app.MapConnectPages();
        app.MapAuditApi();
        app.MapWebhooksApi();
        app.MapOrdersApi();
        app.MapInventoryApi();
        app.MapBillingApi();
        app.MapSupportTicketsApi();
        if (CustomHandler.IsActive(app.Configuration))
        {
            CustomHandler.MapInvocations(app);
        }
    }

    /// <summary>
    /// host.json and local.settings go below every other source: environment variables and the test host's
    /// overrides win, as they do under the Functions host.
    /// </summary>
    private static void AddFileConfiguration(ConfigurationManager configuration, string contentRoot)
    {
        var directories = new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory, contentRoot };
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (HostJson.Find(directories) is { } hostJson)
        {
            foreach (var (key, value) in HostJson.Load(hostJson))
            {
                values[key] = value;
            }
        }
        foreach (var (key, value) in LocalSettings.Load(Directory.GetCurrentDirectory()))
        {
            values[key] = value;
        }
        configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = values });
    }

    private static void AddStorage(IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(new StorageNames(configuration["ThreePL:Storage:Prefix"]));
        services.AddSingleton(_ => CreateStorageAccount(configuration));
        // Options registered in DI (tests add a counting policy this way) reach both clients.
        services.AddSingleton(sp => new TableServiceClient(sp.GetRequiredService<StorageAccount>(), sp.GetService<StorageClientOptions>()));
        services.AddSingleton(sp => new QueueServiceClient(sp.GetRequiredService<StorageAccount>(), sp.GetService<StorageClientOptions>()));
    }

    /// <summary>
    /// <c>AzureWebJobsStorage</c> as the Functions host reads it: a connection string locally, or in Azure the
    /// identity-based form (<c>__tableServiceUri</c>, <c>__queueServiceUri</c>, or just <c>__accountName</c>, and
    /// <c>__clientId</c> of the user-assigned identity) with no key. <c>__credential</c> is for the host; we always use
    /// the managed identity named by <c>__clientId</c>, or <c>DefaultAzureCredential</c> without one.
    /// </summary>
    private static StorageAccount CreateStorageAccount(IConfiguration configuration)
    {
        var connectionString = configuration["AzureWebJobsStorage"];
        if (!string.IsNullOrEmpty(connectionString))
        {
            return StorageAccount.Parse(connectionString);
        }
        var section = configuration.GetSection("AzureWebJobsStorage");
        // The host's own identity-based form may give only the account name; the endpoints follow from it.
        var accountName = section["accountName"];
        var tableText = section["tableServiceUri"] ?? (string.IsNullOrEmpty(accountName) ? null : $"https://{accountName}.table.core.windows.net");
        var queueText = section["queueServiceUri"] ?? (string.IsNullOrEmpty(accountName) ? null : $"https://{accountName}.queue.core.windows.net");
        if (Uri.TryCreate(tableText, UriKind.Absolute, out var tableUri) && Uri.TryCreate(queueText, UriKind.Absolute, out var queueUri))
        {
            var clientId = section["clientId"];
            var credential = string.IsNullOrEmpty(clientId)
                ? new DefaultAzureCredential()
                : (Azure.Core.TokenCredential)new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
            return StorageAccount.FromCredential(tableUri, queueUri, credential);
        }
        throw new InvalidOperationException(
            "Storage is not configured: set AzureWebJobsStorage to a connection string, or AzureWebJobsStorage__tableServiceUri and __queueServiceUri (or __accountName) for a managed identity.");
    }

    private static string DefaultCode(int? status) => status switch
    {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        406 => "not_acceptable",
        409 => "conflict",
        411 => "length_required",
        412 => "precondition_failed",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        _ => status >= 500 ? "internal_error" : "error",
    };
}
