using ThreePL.Domain.Connections;
using static ThreePL.Domain.Tests.Connections.ConnectionFixture;

namespace ThreePL.Domain.Tests.Connections;

public class ConnectionTimingTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromTicks(1);

    [Fact]
    public void Approve_succeeds_one_tick_before_expiry()
    {
        var f = new ConnectionFixture();
        var c = f.Invite();

        Ok(c.Approve(f.Merchant, true, c.ExpiresAt - Tick));
    }

    [Fact]
    public void Approve_fails_when_invitation_expired()
    {
        var f = new ConnectionFixture();
        var c = f.Invite();
        var before = c.ToState();

        Fails(c.Approve(f.Merchant, true, c.ExpiresAt), ConnectionErrors.InvitationExpired);
        Assert.Equal(ConnectionStatus.Pending, c.Status);
        Assert.Equal(before, c.ToState());
    }

    [Fact]
    public void Expired_is_reported_before_missing_confirmation()
    {
        var f = new ConnectionFixture();
        var c = f.Invite();

        Fails(c.Approve(f.Merchant, false, c.ExpiresAt), ConnectionErrors.InvitationExpired);
    }

    [Fact]
    public void Decline_and_cancel_fail_when_invitation_expired()
    {
        var f = new ConnectionFixture();
        var c = f.Invite();

        Fails(c.Decline(f.Merchant, c.ExpiresAt), ConnectionErrors.InvitationExpired);
        Fails(c.Cancel(f.ThreePl, c.ExpiresAt), ConnectionErrors.InvitationExpired);
    }

    [Fact]
    public void Expire_fails_as_not_due_one_tick_before_expiry()
    {
        var f = new ConnectionFixture();
        var c = f.Invite();

        Fails(c.Expire(c.ExpiresAt - Tick), ConnectionErrors.NotDue);
        Assert.Equal(ConnectionStatus.Pending, c.Status);
    }

    [Fact]
    public void Expire_succeeds_exactly_at_expiry()
    {
        var f = new ConnectionFixture();
        var c = f.Invite();

        var outcome = c.Expire(c.ExpiresAt);

        Ok(outcome);
        Assert.IsType<ConnectionExpired>(Assert.Single(outcome.Events));
        Assert.Equal(ConnectionStatus.Expired, c.Status);
        Assert.Null(c.StatusChangedBy);
    }

    [Fact]
    public void The_reminder_time_is_fixed_at_invitation()
    {
        var f = new ConnectionFixture();
        var c = f.Invite();

        Assert.Equal(T0 + ReminderAfter, c.RemindAt);
        Ok(c.Approve(f.Invitee(c), true, T0 + TimeSpan.FromHours(1)));
        Assert.Equal(T0 + ReminderAfter, c.RemindAt);
    }

    [Fact]
    public void No_reminder_when_it_would_not_come_before_expiry()
    {
        var f = new ConnectionFixture();
        var c = f.Invite(ttl: TimeSpan.FromDays(3), reminderAfter: TimeSpan.FromDays(3));

        Assert.Null(c.RemindAt);
    }

    [Fact]
    public void Reminder_just_before_expiry_is_kept()
    {
        var f = new ConnectionFixture();
        var c = f.Invite(ttl: TimeSpan.FromDays(3), reminderAfter: TimeSpan.FromDays(3) - Tick);

        Assert.Equal(c.ExpiresAt - Tick, c.RemindAt);
    }

    [Fact]
    public void Zero_reminder_delay_reminds_at_once()
    {
        var f = new ConnectionFixture();
        var c = f.Invite(reminderAfter: TimeSpan.Zero);

        Assert.Equal(T0, c.RemindAt);
    }

    [Fact]
    public void Active_connections_never_expire()
    {
        var f = new ConnectionFixture();
        var c = f.InStatus(ConnectionStatus.Active);

        Fails(c.Expire(c.ExpiresAt.AddYears(1)), ConnectionErrors.InvalidTransition);
        Ok(c.Deactivate(f.ThreePl, c.ExpiresAt.AddYears(1)));
    }
}
