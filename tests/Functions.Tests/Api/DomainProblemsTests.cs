using Microsoft.AspNetCore.Mvc;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;
using ThreePL.Domain.Orders;
using ThreePL.Functions.Http;

namespace ThreePL.Functions.Tests.Api;

public sealed class DomainProblemsTests
{
    [Theory]
    [InlineData(FieldErrors.Code, 400, FieldErrors.Code)]
    [InlineData(ConnectionErrors.ConfirmationRequired, 400, ConnectionErrors.ConfirmationRequired)]
    [InlineData(OrderRoutingErrors.NoSuchConnection, 400, "validation_failed")]
    [InlineData(ConnectionErrors.NotInvitee, 403, ConnectionErrors.NotInvitee)]
    [InlineData(ConnectionErrors.NotInviter, 403, ConnectionErrors.NotInviter)]
    [InlineData(ConnectionErrors.NotAParty, 404, "not_found")]
    [InlineData(DomainProblems.PreconditionFailed, 412, DomainProblems.PreconditionFailed)]
    [InlineData(OrderRoutingErrors.CarrierServiceNotSupported, 422, OrderRoutingErrors.CarrierServiceNotSupported)]
    [InlineData(ConnectionErrors.InvalidTransition, 409, ConnectionErrors.InvalidTransition)]
    [InlineData(ConnectionErrors.InvitationExpired, 409, ConnectionErrors.InvitationExpired)]
    [InlineData(OrderRoutingErrors.ConnectionNotActive, 409, OrderRoutingErrors.ConnectionNotActive)]
    public void Each_broken_rule_has_one_answer(string code, int status, string answeredCode)
    {
        var problem = DomainProblems.For(new DomainError(code, "why"), "pending").ProblemDetails;

        Assert.Equal(status, problem.Status);
        Assert.Equal(answeredCode, problem.Extensions["code"]);
    }

    [Fact]
    public void A_state_conflict_reports_the_current_status_and_a_connection_rule_on_an_order_does_not()
    {
        Assert.Equal("in_progress", DomainProblems.For(new DomainError(OrderErrors.InvalidTransition, "no"), "in_progress").ProblemDetails.Extensions["currentStatus"]);
        Assert.False(DomainProblems.For(new DomainError(OrderRoutingErrors.ConnectionNotManagingOrders, "no"), "open").ProblemDetails.Extensions.ContainsKey("currentStatus"));
        Assert.Equal("The shipping service is not valid because the client does not have a carrier account that supports it.",
            DomainProblems.For(new DomainError(OrderRoutingErrors.CarrierServiceNotSupported, OrderRoutingErrors.CarrierServiceNotSupportedMessage)).ProblemDetails.Detail);
    }
}
