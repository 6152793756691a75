using System.Text.Json;
using System.Text.Json.Serialization;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.DependencyInjection.Extensions;
using ThreePL.Functions.Accounts;
using ThreePL.Functions.ApiKeys;
using ThreePL.Functions.Audit;
using ThreePL.Functions.Billing;
using ThreePL.Functions.ConnectPages;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Email;
using ThreePL.Functions.Http;
using ThreePL.Functions.Impersonation;
using ThreePL.Functions.Infrastructure;
using ThreePL.Functions.Inventory;
using ThreePL.Functions.Messaging;
using ThreePL.Functions.Orders;
using ThreePL.Functions.SupportTickets;
using ThreePL.Functions.Webhooks;

namespace ThreePL.Functions;

/// <summary>
/// The composition of the app, shared by the Functions host's worker (<c>Program</c>) and the development host:
/// both run the same functions over the same services, so nothing observable can differ between them.
/// </summary>
public static class AppSetup
{
    public const string DefaultUrl = "http://127.0.0.1:7071";

    /// <summary>Every table and every triggered queue of the app, by base name.</summary>
    public static readonly StorageInventory Storage = new(
        [AccountStore.TableName, ConnectionStore.TableName, SentEmailLog.TableName, WebhookTable.TableName, OrderStore.TableName,
            InventoryStore.TableName, UsageStore.TableName, SupportTicketStore.TableName, Events.EventFeed.TableName],
        [Outbox.RelayQueue, EventEnvelope.Queue, OrderMessages.RoutingQueue, HandBackRequest.Queue,
            DeliveryMessage.Queue, RecordUsageMessage.Queue, ConnectionMessages.WorkflowQueue, RequestDeadlineMessage.Queue, OrderFollowUpMessage.Queue]);

    /// <summary>
    /// The tables whose partitions hold outbox rows. Order commands write none any more: their messages ride on the
    /// history row and are published by the command's follow-up message (<see cref="OrderFollowUps"/>). Orders stay
    /// here so that a safety net armed by an earlier version, in flight across an upgrade, still relays the rows it
    /// was armed for (as <c>RecordUsage</c> still drains the old <c>billing</c> queue).
    /// </summary>
    public static readonly OutboxTables Outboxes = new(new HashSet<string>(StringComparer.Ordinal) { ConnectionStore.TableName, OrderStore.TableName });

    public static IServiceCollection AddThreePL(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(TimeProvider.System);
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        });
        Telemetry.Add(services, configuration);

        AddStorage(services, configuration);
        services.AddSingleton(Storage);
        services.AddSingleton(Outboxes);
        services.AddSingleton<StorageLayout>();
        services.AddHostedService(sp => sp.GetRequiredService<StorageLayout>());

        services.AddSingleton<Authenticator>();
        services.AddSingleton<RequestBody>();
        services.AddSingleton<HttpApi>();
        services.AddSingleton<AccountStore>();
        services.AddSingleton<ApiKeyCache>();
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<IConnectionMembership, ConnectionMembership>();
        services.AddSingleton<CreateAccount>();
        services.AddSingleton<GetAccount>();
        services.AddSingleton<CreateApiKey>();
        services.AddSingleton<ListApiKeys>();
        services.AddSingleton<UpdateApiKey>();
        services.AddSingleton<DeleteApiKey>();

        services.AddSingleton(OutboxOptions.FromConfiguration(configuration));
        services.AddSingleton<AfterCommit>();
        services.AddSingleton<Outbox>();
        services.AddSingleton<InlineRelay>();
        services.AddSingleton(HandBackOptions.FromConfiguration(configuration));
        services.AddSingleton(EmailOptions.FromConfiguration(configuration));
        services.AddSingleton<IEmailSender>(sp => sp.GetRequiredService<EmailOptions>().SmtpHost is { Length: > 0 }
            ? new SmtpEmailSender(sp.GetRequiredService<EmailOptions>())
            : new PickupDirectoryEmailSender(sp.GetRequiredService<EmailOptions>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<InvitationEmails>();
        services.AddSingleton<ConnectionMailer>();
        services.AddSingleton<SentEmailLog>();
        services.AddSingleton(WebhookUrlPolicy.FromConfiguration(configuration));

        services.AddSingleton(ConnectionOptions.FromConfiguration(configuration));
        services.AddSingleton(_ => ConnectTokens.FromConfiguration(configuration));
        services.AddSingleton(_ => UnconnectableInvitee.FromConfiguration(configuration));
        services.AddSingleton<ConnectionStore>();
        services.AddSingleton<ConnectionAccess>();
        services.AddSingleton<ConnectionCommands>();
        services.AddSingleton<InviteConnection>();
        services.AddSingleton<ListConnections>();
        services.AddSingleton<GetConnection>();
        services.AddSingleton<ChangeConnectionStatus>();
        services.AddSingleton<GetConnectionSettings>();
        services.AddSingleton<UpdateConnectionSettings>();
        services.AddSingleton<RotateWebhookSecret>();
        services.AddSingleton<ConnectPage>();
        services.AddSingleton<OnboardBrand>();
        services.AddSingleton<GetConnectionWorkflow>();
        services.AddSingleton<ResumeConnectionWorkflows>();
        services.AddSingleton<ListAuditEvents>();
        services.AddSingleton<ImpersonationStore>();
        services.AddSingleton<StartImpersonation>();
        services.AddSingleton(WebhookOptions.FromConfiguration(configuration));
        WebhookSender.Configure(services);
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<LocalChanges>();
        services.AddSingleton<PartitionWriter>();
        services.AddSingleton<WebhookTable>();
        services.AddSingleton<WebhookEndpointStore>();
        services.AddSingleton<DestinationHealthStore>();
        services.AddSingleton<WebhookDeliveryStore>();
        services.AddSingleton<WebhookTargets>();
        services.AddSingleton<RetryPolicy>();
        services.AddSingleton<DeliveryQueue>();
        services.AddSingleton<WebhookAttempts>();
        services.AddSingleton<WebhookFanOut>();
        services.AddSingleton<EventDispatcher>();
        services.AddSingleton<IEventPublisher>(sp => sp.GetRequiredService<EventDispatcher>());
        services.AddSingleton<CreateWebhookEndpoint>();
        services.AddSingleton<ManageWebhookEndpoints>();
        services.AddSingleton<ListWebhookDeliveries>();
        services.AddSingleton<Events.EventFeed>();
        services.AddSingleton<Events.ListEvents>();
        services.AddSingleton<RetryWebhookDelivery>();

        services.AddSingleton(OrderOptions.FromConfiguration(configuration));
        services.AddSingleton<OrderStore>();
        services.AddSingleton<ICommittedFeedShelves>(sp => sp.GetRequiredService<OrderStore>());
        services.AddSingleton(ReconciliationOptions.FromConfiguration(configuration));
        services.AddSingleton<OrderChangeFeed>();
        services.AddSingleton<OrderIndex>();
        services.AddSingleton<OrderFollowUps>();
        services.AddSingleton<InProcessFollowUps>();
        services.AddHostedService(sp => sp.GetRequiredService<InProcessFollowUps>());
        services.AddSingleton<OrderCommands>();
        services.AddSingleton<OrderAccess>();
        services.AddSingleton<RoutingStore>();
        services.AddSingleton<InventoryStore>();
        services.TryAddSingleton<IInventoryLookup, InventoryLookup>();
        services.AddSingleton<MerchantConnections>();
        services.AddSingleton<OrderRouter>();
        services.AddSingleton(IntakeOptions.FromConfiguration(configuration));
        services.AddSingleton<IntakeBackpressure>();
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
        services.AddSingleton<UsageRecorder>();
        services.AddSingleton<IEventSubscriber, BillShipments>();
        services.AddSingleton<IEventView, OrderEventView>();
        services.AddSingleton<EventViews>();
        services.AddSingleton<GetUsage>();
        services.AddSingleton<SupportTicketStore>();
        services.AddSingleton<SupportTicketAccess>();
        services.AddSingleton<OpenSupportTicket>();
        services.AddSingleton<AnswerSupportTicket>();
        services.AddSingleton<ListSupportTickets>();
        return services;
    }

    private static void AddStorage(IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(new StorageNames(configuration["ThreePL:Storage:Prefix"]));
        services.AddSingleton(sp => StorageClients.Tables(configuration, sp.GetServices<StoragePolicy>()));
        services.AddSingleton(sp => StorageClients.Queues(configuration, sp.GetServices<StoragePolicy>()));
    }
}
