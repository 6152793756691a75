using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Accounts;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Functions.Connections;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Orders;

public sealed record PutRoutingRulesRequest(IReadOnlyList<RoutingRule?>? Rules, string? DefaultConnectionId);

/// <summary>
/// The merchant replaces its routing rules. Every connection named must be one of the merchant's own; whether
/// it is active and managing orders is checked when an order is routed, so rules survive a deactivation.
/// </summary>
public sealed class PutRoutingRules(RoutingStore store, ConnectionStore connections)
{
    public const int MaxRules = 50;
    public const int MaxPrefixes = 50;
    public const int MaxConnectionIds = 50;

    public async Task<Results<Ok<RoutingRules>, ProblemHttpResult>> HandleAsync(Caller caller, PutRoutingRulesRequest request, CancellationToken cancellationToken)
    {
        if (caller.Kind != AccountKind.Merchant)
        {
            return OrderAccess.WrongParty(Party.Merchant);
        }
        var errors = new FieldErrors();
        var named = new List<(string Field, string Id)>();
        var rules = request.Rules ?? [];
        if (request.Rules is null)
        {
            // Replacing the rules with nothing must be said with "rules": [], never by leaving the field out.
            errors.Add("rules", "This field is required; send [] to remove every rule.");
        }
        else if (rules.Count > MaxRules)
        {
            errors.Add("rules", $"At most {MaxRules} rules are allowed.");
            rules = [];
        }
        var clean = new List<RoutingRule>();
        for (var i = 0; i < rules.Count; i++)
        {
            var path = $"rules[{i}]";
            if (rules[i] is not { } rule)
            {
                errors.Add(path, "Must not be null.");
                continue;
            }
            switch (rule.Type)
            {
                case RoutingRule.SkuPrefix:
                    var prefixes = rule.SkuPrefixes ?? [];
                    if (prefixes.Count is 0 or > MaxPrefixes)
                    {
                        errors.Add(path + ".skuPrefixes", $"Give 1 to {MaxPrefixes} prefixes.");
                    }
                    for (var p = 0; p < prefixes.Count && p < MaxPrefixes; p++)
                    {
                        errors.Text($"{path}.skuPrefixes[{p}]", prefixes[p], Domain.Orders.OrderDraft.SkuMaxLength);
                    }
                    named.Add((path + ".connectionId", rule.ConnectionId ?? ""));
                    clean.Add(new RoutingRule(RoutingRule.SkuPrefix, prefixes.ToList(), rule.ConnectionId, null));
                    break;
                case RoutingRule.StocksEveryLine:
                    var ids = rule.ConnectionIds ?? [];
                    if (ids.Count > MaxConnectionIds)
                    {
                        errors.Add(path + ".connectionIds", $"At most {MaxConnectionIds} connections.");
                        ids = [];
                    }
                    named.AddRange(ids.Select((id, n) => ($"{path}.connectionIds[{n}]", id ?? "")));
                    clean.Add(new RoutingRule(RoutingRule.StocksEveryLine, null, null, rule.ConnectionIds is null ? null : ids.ToList()));
                    break;
                default:
                    errors.Add(path + ".type", $"Must be '{RoutingRule.SkuPrefix}' or '{RoutingRule.StocksEveryLine}'.");
                    break;
            }
        }
        if (request.DefaultConnectionId is not null)
        {
            named.Add(("defaultConnectionId", request.DefaultConnectionId));
        }
        foreach (var (field, id) in named)
        {
            if (!ConnectionId.TryParse(id, out var connectionId))
            {
                errors.Add(field, "Must be a connection id.");
            }
            else if (await connections.GetAsync(connectionId, cancellationToken).ConfigureAwait(false) is not { } stored || stored.Connection.MerchantAccountId != caller.AccountId)
            {
                errors.Add(field, "No such connection.");
            }
        }
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }
        var saved = new RoutingRules(clean, request.DefaultConnectionId);
        await store.SaveRulesAsync(caller.AccountId, saved, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(saved);
    }
}
