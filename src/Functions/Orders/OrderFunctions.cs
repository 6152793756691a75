using ThreePL.Domain.Connections;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Orders;

public sealed class OrderFunctions(
    HttpApi api,
    SubmitOrder submit,
    ListOrders list,
    GetOrder get,
    DelegateOrder delegateOrder,
    ChangeOrderStatus change,
    PutRoutingRules putRoutingRules,
    PutCarrierAccounts putCarrierAccounts,
    RoutingStore routing)
{
    private static readonly Access Read = Access.Requires("orders:read", ScopedCallers.Filtered);
    private static readonly Access Write = Access.Requires("orders:write", ScopedCallers.Filtered);
    private static readonly Access Ship = Access.Requires("shipments:write", ScopedCallers.Filtered);
    private static readonly Access Holds = Access.AnyKey(ScopedCallers.Filtered);

    // New orders, routing rules (which name every 3PL the merchant works with) and carrier accounts belong to the
    // whole account; routing, not a connection's key, decides where an order goes.
    private static readonly Access ReadAccountWide = Access.Requires("orders:read", ScopedCallers.Refused);
    private static readonly Access WriteAccountWide = Access.Requires("orders:write", ScopedCallers.Refused);
    private static readonly Access ShipAccountWide = Access.Requires("shipments:write", ScopedCallers.Refused);

    [Function(nameof(SubmitOrder))]
    public Task<IResult> SubmitOrderAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/orders")] HttpRequest request) =>
        api.RunAsync(request, WriteAccountWide, (Caller caller, SubmitOrderRequest body, CancellationToken ct) => submit.HandleAsync(caller, body, ct));

    [Function(nameof(ListOrders))]
    public Task<IResult> ListOrdersAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/orders")] HttpRequest request) =>
        api.RunAsync(request, Read, (Caller caller, CancellationToken ct) => list.HandleAsync(
            caller, Query.Text(request, "status"), Query.Text(request, "connectionId"), Query.Text(request, "updatedSince"), Query.Text(request, "cursor"), Query.Int(request, "limit"), ct));

    [Function(nameof(GetOrder))]
    public Task<IResult> GetOrderAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/orders/{id}")] HttpRequest request, string id) =>
        api.RunAsync(request, Read, (Caller caller, CancellationToken ct) => get.HandleAsync(caller, id, ct));

    [Function(nameof(DelegateOrder))]
    public Task<IResult> DelegateOrderAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/orders/{id}/delegate")] HttpRequest request, string id) =>
        api.RunAsync(request, Write, (Caller caller, DelegateOrderRequest body, CancellationToken ct) => delegateOrder.HandleAsync(caller, id, body, ct));

    [Function("CancelOrder")]
    public Task<IResult> CancelOrderAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/orders/{id}/cancel")] HttpRequest request, string id) =>
        Transition(request, id, Write, Party.Merchant, (o, now) => o.Cancel(now));

    [Function("AcceptOrderCancellation")]
    public Task<IResult> AcceptOrderCancellationAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/orders/{id}/cancellation/accept")] HttpRequest request, string id) =>
        Transition(request, id, Write, Party.ThreePl, (o, now) => o.AcceptCancellation(now));

    [Function("RejectOrderCancellation")]
    public Task<IResult> RejectOrderCancellationAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/orders/{id}/cancellation/reject")] HttpRequest request, string id) =>
        Transition(request, id, Write, Party.ThreePl, (o, now) => o.RejectCancellation(now));

    [Function("StartOrder")]
    public Task<IResult> StartOrderAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/orders/{id}/start")] HttpRequest request, string id) =>
        Transition(request, id, Ship, Party.ThreePl, (o, now) => o.Start(now));

    [Function("ShipOrder")]
    public Task<IResult> ShipOrderAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/orders/{id}/ship")] HttpRequest request, string id) =>
        api.RunAsync(request, Ship, (Caller caller, ShipOrderRequest body, CancellationToken ct) => change.ShipAsync(caller, id, body, ct));

    [Function("AcceptOrder")]
    public Task<IResult> AcceptOrderAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/orders/{id}/accept")] HttpRequest request, string id) =>
        Transition(request, id, Ship, Party.ThreePl, (o, now) => o.Accept(now));

    [Function("RejectOrder")]
    public Task<IResult> RejectOrderAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/orders/{id}/reject")] HttpRequest request, string id) =>
        api.RunAsync(request, Ship, (Caller caller, RejectOrderRequest body, CancellationToken ct) => change.RejectAsync(caller, id, body, ct));

    // Either side holds an order; the handler requires orders:write of the merchant and shipments:write of the 3PL.
    [Function("PlaceOrderHold")]
    public Task<IResult> PlaceOrderHoldAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/orders/{id}/holds")] HttpRequest request, string id) =>
        api.RunAsync(request, Holds, (Caller caller, PlaceHoldRequest body, CancellationToken ct) => change.PlaceHoldAsync(caller, id, body, ct));

    [Function("ReleaseOrderHold")]
    public Task<IResult> ReleaseOrderHoldAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/orders/{id}/holds/{holdId}/release")] HttpRequest request, string id, string holdId) =>
        api.RunAsync(request, Holds, (Caller caller, CancellationToken ct) => change.ReleaseHoldAsync(caller, id, holdId, ct));

    [Function(nameof(PutRoutingRules))]
    public Task<IResult> PutRoutingRulesAsync([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "v1/routing-rules")] HttpRequest request) =>
        api.RunAsync(request, WriteAccountWide, (Caller caller, PutRoutingRulesRequest body, CancellationToken ct) => putRoutingRules.HandleAsync(caller, body, ct));

    [Function("GetRoutingRules")]
    public Task<IResult> GetRoutingRulesAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/routing-rules")] HttpRequest request) =>
        api.RunAsync(request, ReadAccountWide, async (Caller caller, CancellationToken ct) =>
            TypedResults.Ok(await routing.GetRulesAsync(caller.AccountId, ct).ConfigureAwait(false)));

    [Function(nameof(PutCarrierAccounts))]
    public Task<IResult> PutCarrierAccountsAsync([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "v1/carrier-accounts")] HttpRequest request) =>
        api.RunAsync(request, ShipAccountWide, (Caller caller, PutCarrierAccountsRequest body, CancellationToken ct) => putCarrierAccounts.HandleAsync(caller, body, ct));

    [Function("GetCarrierAccounts")]
    public Task<IResult> GetCarrierAccountsAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/carrier-accounts")] HttpRequest request) =>
        api.RunAsync(request, ReadAccountWide, async (Caller caller, CancellationToken ct) =>
            TypedResults.Ok(new CarrierAccountsResponse(await routing.GetCarrierAccountsAsync(caller.AccountId, ct).ConfigureAwait(false))));

    private Task<IResult> Transition(HttpRequest request, string id, Access access, Party party, Func<Order, DateTimeOffset, Domain.Common.Outcome<OrderEvent>> transition) =>
        api.RunAsync(request, access, (Caller caller, CancellationToken ct) => change.HandleAsync(caller, id, party, transition, ct));
}
