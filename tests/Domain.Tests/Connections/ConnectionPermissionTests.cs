using ThreePL.Domain.Connections;
using static ThreePL.Domain.Tests.Connections.ConnectionFixture;

namespace ThreePL.Domain.Tests.Connections;

public class ConnectionPermissionTests
{
    private static readonly DateTimeOffset Now = T0.AddHours(2);

    [Theory]
    [InlineData(Party.ThreePl)]
    [InlineData(Party.Merchant)]
    public void Approve_succeeds_for_the_invitee_whichever_side_invited(Party invitedBy)
    {
        var f = new ConnectionFixture();
        var c = f.Invite(invitedBy);

        var outcome = c.Approve(f.Invitee(c), true, Now);

        Ok(outcome);
        Assert.Equal(ConnectionStatus.Active, c.Status);
        Assert.Equal(f.Invitee(c), Assert.IsType<ConnectionApproved>(Assert.Single(outcome.Events)).ApprovedBy);
    }

    [Theory]
    [InlineData(Party.ThreePl)]
    [InlineData(Party.Merchant)]
    public void Approve_fails_when_the_inviter_approves_its_own_invitation(Party invitedBy)
    {
        var f = new ConnectionFixture();
        var c = f.Invite(invitedBy);
        var before = c.ToState();

        Fails(c.Approve(f.Inviter(c), true, Now), ConnectionErrors.NotInvitee);
        Assert.Equal(before, c.ToState());
    }

    [Theory]
    [InlineData(Party.ThreePl)]
    [InlineData(Party.Merchant)]
    public void Decline_fails_for_the_inviter_and_succeeds_for_the_invitee(Party invitedBy)
    {
        var f = new ConnectionFixture();
        var c = f.Invite(invitedBy);

        Fails(c.Decline(f.Inviter(c), Now), ConnectionErrors.NotInvitee);
        Ok(c.Decline(f.Invitee(c), Now));
        Assert.Equal(ConnectionStatus.Declined, c.Status);
        Assert.Equal(f.Invitee(c), c.StatusChangedBy);
    }

    [Theory]
    [InlineData(Party.ThreePl)]
    [InlineData(Party.Merchant)]
    public void Cancel_fails_for_the_invitee_and_succeeds_for_the_inviter(Party invitedBy)
    {
        var f = new ConnectionFixture();
        var c = f.Invite(invitedBy);

        Fails(c.Cancel(f.Invitee(c), Now), ConnectionErrors.NotInviter);
        Ok(c.Cancel(f.Inviter(c), Now));
        Assert.Equal(ConnectionStatus.Cancelled, c.Status);
    }

    [Fact]
    public void Approve_fails_without_confirmation_and_changes_nothing()
    {
        var f = new ConnectionFixture();
        var c = f.Invite();
        var before = c.ToState();

        Fails(c.Approve(f.Merchant, false, Now), ConnectionErrors.ConfirmationRequired);
        Assert.Equal(before, c.ToState());
    }

    [Theory]
    [InlineData(Party.ThreePl)]
    [InlineData(Party.Merchant)]
    public void Either_party_may_deactivate_reactivate_and_disconnect(Party actorSide)
    {
        var f = new ConnectionFixture();
        var c = f.InStatus(ConnectionStatus.Active);
        var actor = c.AccountOf(actorSide);

        Ok(c.Deactivate(actor, Now));
        Assert.Equal(actor, c.DeactivatedBy);
        Ok(c.Reactivate(actor, Now));
        Assert.Null(c.DeactivatedBy);
        Ok(c.Disconnect(actor, Now));
        Assert.Equal(ConnectionStatus.Disconnected, c.Status);
    }

    public static TheoryData<ConnectionStatus, ConnectionCommand> PartyCommands()
    {
        var data = new TheoryData<ConnectionStatus, ConnectionCommand>();
        foreach (var status in Enum.GetValues<ConnectionStatus>())
        {
            foreach (var command in new[]
            {
                ConnectionCommand.Approve, ConnectionCommand.Decline, ConnectionCommand.Cancel,
                ConnectionCommand.Deactivate, ConnectionCommand.Reactivate, ConnectionCommand.Disconnect,
            })
            {
                data.Add(status, command);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(PartyCommands))]
    public void A_stranger_gets_not_a_party_in_every_status(ConnectionStatus status, ConnectionCommand command)
    {
        var f = new ConnectionFixture();
        var c = f.InStatus(status);
        var before = c.ToState();

        var outcome = command switch
        {
            ConnectionCommand.Approve => c.Approve(f.Stranger, true, Now),
            ConnectionCommand.Decline => c.Decline(f.Stranger, Now),
            ConnectionCommand.Cancel => c.Cancel(f.Stranger, Now),
            ConnectionCommand.Deactivate => c.Deactivate(f.Stranger, Now),
            ConnectionCommand.Reactivate => c.Reactivate(f.Stranger, Now),
            _ => c.Disconnect(f.Stranger, Now),
        };

        Fails(outcome, ConnectionErrors.NotAParty);
        Assert.Equal(before, c.ToState());
    }

    [Fact]
    public void PartyOf_tells_the_side_of_each_account()
    {
        var f = new ConnectionFixture();
        var c = f.Invite();

        Assert.Equal(Party.ThreePl, c.PartyOf(f.ThreePl));
        Assert.Equal(Party.Merchant, c.PartyOf(f.Merchant));
        Assert.Null(c.PartyOf(f.Stranger));
    }

    [Fact]
    public void Wrong_status_is_reported_before_wrong_side()
    {
        var f = new ConnectionFixture();
        var c = f.InStatus(ConnectionStatus.Active);

        Fails(c.Approve(f.ThreePl, true, Now), ConnectionErrors.InvalidTransition);
    }
}
