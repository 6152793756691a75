using Microsoft.AspNetCore.Http.HttpResults;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Domain.Orders;

namespace ThreePL.Functions.Http;

/// <summary>
/// The one table from a broken domain rule (<see cref="DomainError.Code"/>) to its HTTP answer. A rule the table
/// does not name is a conflict with the resource's current state: 409 with the <c>currentStatus</c> it is in.
/// </summary>
public static class DomainProblems
{
    /// <summary>An <c>If-Match</c> that names another version than the stored one.</summary>
    public const string PreconditionFailed = "precondition_failed";

    private const string Invalid = "The request is invalid.";
    private const string NotAllowed = "The request is not allowed.";

    private static readonly Dictionary<string, Func<DomainError, ProblemHttpResult>> s_answers = new(StringComparer.Ordinal)
    {
        [FieldErrors.Code] = e => Problems.Create(StatusCodes.Status400BadRequest, e.Code, Invalid, e.Message),
        [ConnectionErrors.ConfirmationRequired] = e => Problems.Create(StatusCodes.Status400BadRequest, e.Code, "Confirmation is required.", e.Message),
        [OrderRoutingErrors.NoSuchConnection] = e => Problems.Validation("connectionId", e.Message),
        [ConnectionErrors.NotInvitee] = e => Problems.Create(StatusCodes.Status403Forbidden, e.Code, NotAllowed, e.Message),
        [ConnectionErrors.NotInviter] = e => Problems.Create(StatusCodes.Status403Forbidden, e.Code, NotAllowed, e.Message),
        // Not a party is answered like any other tenant's resource: it does not exist for this caller.
        [ConnectionErrors.NotAParty] = _ => Problems.NotFound("connection"),
        [PreconditionFailed] = e => Problems.PreconditionFailed(e.Message),
        [OrderRoutingErrors.CarrierServiceNotSupported] = e => Problems.Create(StatusCodes.Status422UnprocessableEntity, e.Code, "The order cannot be delegated to this connection.", e.Message),
        // About the connection, not the order being delegated: the order's status would mislead.
        [OrderRoutingErrors.ConnectionNotActive] = e => Problems.Conflict(e.Code, e.Message),
        [OrderRoutingErrors.ConnectionNotManagingOrders] = e => Problems.Conflict(e.Code, e.Message),
        [FulfilmentErrors.HoldNotFound] = e => Problems.Create(StatusCodes.Status404NotFound, e.Code, "No such hold.", e.Message),
        [FulfilmentErrors.HoldPlacedByOtherParty] = e => Problems.Create(StatusCodes.Status403Forbidden, e.Code, NotAllowed, e.Message),
    };

    /// <param name="error">The broken rule.</param>
    /// <param name="currentStatus">The resource's status in wire form, reported with a 409.</param>
    public static ProblemHttpResult For(DomainError error, string? currentStatus = null)
    {
        ArgumentNullException.ThrowIfNull(error);
        return s_answers.TryGetValue(error.Code, out var answer)
            ? answer(error)
            : Problems.Conflict(error.Code, error.Message, currentStatus is null ? null : new Dictionary<string, object?> { ["currentStatus"] = currentStatus });
    }
}
