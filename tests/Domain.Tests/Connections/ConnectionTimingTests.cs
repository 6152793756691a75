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
    public void Expire_succeeds_exactly_at_expiry_and_clears_the_reminder()
    {
        var f = new ConnectionFixture();
        var c = f.Invite();

        var outcome = c.Expire(c.ExpiresAt);

        Ok(outcome);
        Assert.IsType<ConnectionExpired>(Assert.Single(outcome.Events));
        Assert.Equal(ConnectionStatus.Expired, c.Status);
        Assert.Null(c.ReminderDueAt);
        Assert.Null(c.StatusChangedBy);
    }

    [Fact]
    public void Reminder_is_not_due_one_tick_before_its_time()
    {
        var f = new ConnectionFixture();
        var c = f.Invite();
        var due = T0 + ReminderAfter;

        Assert.False(c.ReminderDue(due - Tick));
        Fails(c.MarkReminderSent(due - Tick), ConnectionErrors.NotDue);
        Assert.Equal(due, c.ReminderDueAt);
    }

    [Fact]
    public void Reminder_is_due_exactly_at_its_time_and_is_sent_once()
    {
        var f = new ConnectionFixture();
        var c = f.Invite();
        var due = T0 + ReminderAfter;

        Assert.True(c.ReminderDue(due));
        var outcome = c.MarkReminderSent(due);

        Ok(outcome);
        Assert.Equal("shop@example.com", Assert.IsType<InvitationReminderSent>(Assert.Single(outcome.Events)).InviteeEmail);
        Assert.Null(c.ReminderDueAt);
        Assert.Equal(2, c.Version);
        Assert.False(c.ReminderDue(due));
        Fails(c.MarkReminderSent(due.AddHours(1)), ConnectionErrors.NotDue);
    }

    [Fact]
    public void Reminder_is_not_due_once_the_invitation_expired()
    {
        var f = new ConnectionFixture();
        var c = f.Invite();

        Assert.True(c.ReminderDue(c.ExpiresAt - Tick));
        Assert.False(c.ReminderDue(c.ExpiresAt));
        Fails(c.MarkReminderSent(c.ExpiresAt), ConnectionErrors.InvitationExpired);
    }

    [Fact]
    public void No_reminder_when_it_would_not_come_before_expiry()
    {
        var f = new ConnectionFixture();
        var c = f.Invite(ttl: TimeSpan.FromDays(3), reminderAfter: TimeSpan.FromDays(3));

        Assert.Null(c.ReminderDueAt);
        Assert.False(c.ReminderDue(c.ExpiresAt - Tick));
    }

    [Fact]
    public void Reminder_just_before_expiry_is_kept()
    {
        var f = new ConnectionFixture();
        var c = f.Invite(ttl: TimeSpan.FromDays(3), reminderAfter: TimeSpan.FromDays(3) - Tick);

        Assert.Equal(c.ExpiresAt - Tick, c.ReminderDueAt);
    }

    [Fact]
    public void Zero_reminder_delay_makes_the_reminder_due_at_once()
    {
        var f = new ConnectionFixture();
        var c = f.Invite(reminderAfter: TimeSpan.Zero);

        Assert.True(c.ReminderDue(T0));
    }

    [Theory]
    [InlineData(ConnectionStatus.Active)]
    [InlineData(ConnectionStatus.Declined)]
    [InlineData(ConnectionStatus.Cancelled)]
    public void Answering_the_invitation_clears_the_reminder(ConnectionStatus status)
    {
        var f = new ConnectionFixture();
        var c = f.InStatus(status);

        Assert.Null(c.ReminderDueAt);
        Assert.False(c.ReminderDue(T0 + ReminderAfter));
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
