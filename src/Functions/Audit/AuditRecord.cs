using System.Globalization;
using Azure.Data.Tables;
using ThreePL.Domain.Common;

namespace ThreePL.Functions.Audit;

/// <summary>
/// Who did what, when, on behalf of whom. Stored in the partition of the thing acted on (a connection's
/// partition, or an account's for key actions) and written in the same transaction as the change, so the
/// trail can never miss a change nor record one that did not happen. Row keys count down in time, so a
/// partition's audit reads newest first.
/// </summary>
public sealed record AuditRecord(
    string Id,
    DateTimeOffset At,
    string Action,
    AccountId? ActorAccountId,
    ApiKeyId? ActorKeyId,
    AccountId? OnBehalfOfAccountId,
    ConnectionId? ConnectionId,
    string? Before,
    string? After)
{
    public const string RowPrefix = "audit|";
    public const string RowPrefixEnd = "audit}";

    public static AuditRecord Create(DateTimeOffset at, string action, AuditActor actor, ConnectionId? connection, string? before = null, string? after = null) =>
        new($"aud_{Guid.NewGuid():N}", at, action, actor.AccountId, actor.KeyId, actor.OnBehalfOf, connection, before, after);

    public TableTransactionAction ToAction(string partitionKey) =>
        new(TableTransactionActionType.Add, new TableEntity(partitionKey, $"{RowPrefix}{(DateTimeOffset.MaxValue.UtcTicks - At.UtcTicks).ToString("D19", CultureInfo.InvariantCulture)}|{Id}")
        {
            ["Id"] = Id,
            ["At"] = At,
            ["Action"] = Action,
            ["ActorAccountId"] = ActorAccountId?.Value,
            ["ActorKeyId"] = ActorKeyId?.Value,
            ["OnBehalfOfAccountId"] = OnBehalfOfAccountId?.Value,
            ["ConnectionId"] = ConnectionId?.Value,
            ["Before"] = Before,
            ["After"] = After,
        });

    public static AuditRecord FromEntity(TableEntity entity) => new(
        entity.GetString("Id") ?? "",
        entity.GetDateTimeOffset("At") ?? DateTimeOffset.MinValue,
        entity.GetString("Action") ?? "",
        entity.GetString("ActorAccountId") is { } a ? AccountId.Parse(a) : null,
        entity.GetString("ActorKeyId") is { } k ? ApiKeyId.Parse(k) : null,
        entity.GetString("OnBehalfOfAccountId") is { } o ? AccountId.Parse(o) : null,
        entity.GetString("ConnectionId") is { } c ? Domain.Common.ConnectionId.Parse(c) : null,
        entity.GetString("Before"),
        entity.GetString("After"));
}

/// <summary>
/// The acting side of an audit record: an account through one of its keys, the e-mail link (account but no
/// key), the system (timers), or a 3PL acting on behalf of a brand.
/// </summary>
public sealed record AuditActor(AccountId? AccountId, ApiKeyId? KeyId, AccountId? OnBehalfOf)
{
    public static AuditActor System { get; } = new(null, null, null);
}
