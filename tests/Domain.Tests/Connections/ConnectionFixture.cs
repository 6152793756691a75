using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;

namespace ThreePL.Domain.Tests.Connections;

/// <summary>The commands a connection accepts, for table-driven tests.</summary>
public enum ConnectionCommand
{
    Approve,
    Decline,
    Cancel,
    Deactivate,
    Reactivate,
    Disconnect,
    Expire,
}

/// <summary>Builds connections in a given status. The 3PL invites the merchant unless told otherwise.</summary>
internal sealed class ConnectionFixture
{
    public static readonly DateTimeOffset T0 = new(2025, 3, 1, 9, 0, 0, TimeSpan.Zero);
    public static readonly TimeSpan Ttl = TimeSpan.FromDays(14);
    public static readonly TimeSpan ReminderAfter = TimeSpan.FromDays(3);

    public AccountId ThreePl { get; } = AccountId.New();
    public AccountId Merchant { get; } = AccountId.New();
    public AccountId Stranger { get; } = AccountId.New();

    public Connection Invite(Party invitedBy = Party.ThreePl, TimeSpan? ttl = null, TimeSpan? reminderAfter = null) =>
        Connection.Invite(ConnectionId.New(), ThreePl, Merchant, invitedBy, "shop@example.com", "Shop", "Shop Ltd",
            T0, ttl ?? Ttl, reminderAfter ?? ReminderAfter).Connection;

    public AccountId Inviter(Connection c) => c.AccountOf(c.InvitedBy);

    public AccountId Invitee(Connection c) => c.AccountOf(c.Invitee);

    /// <summary>A connection brought to <paramref name="status"/> through legal commands only.</summary>
    public Connection InStatus(ConnectionStatus status)
    {
        var c = Invite();
        var t = T0.AddHours(1);
        switch (status)
        {
            case ConnectionStatus.Pending:
                break;
            case ConnectionStatus.Active:
                Ok(c.Approve(Merchant, true, t));
                break;
            case ConnectionStatus.Inactive:
                Ok(c.Approve(Merchant, true, t));
                Ok(c.Deactivate(ThreePl, t.AddHours(1)));
                break;
            case ConnectionStatus.Declined:
                Ok(c.Decline(Merchant, t));
                break;
            case ConnectionStatus.Cancelled:
                Ok(c.Cancel(ThreePl, t));
                break;
            case ConnectionStatus.Expired:
                Ok(c.Expire(c.ExpiresAt));
                break;
            case ConnectionStatus.Disconnected:
                Ok(c.Approve(Merchant, true, t));
                Ok(c.Disconnect(Merchant, t.AddHours(1)));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(status));
        }
        Assert.Equal(status, c.Status);
        return c;
    }

    /// <summary>Runs <paramref name="command"/> with an actor and time that the rules allow whenever the status does.</summary>
    public Outcome<ConnectionEvent> Run(Connection c, ConnectionCommand command)
    {
        var now = T0 + ReminderAfter + TimeSpan.FromHours(1);
        return command switch
        {
            ConnectionCommand.Approve => c.Approve(Invitee(c), true, now),
            ConnectionCommand.Decline => c.Decline(Invitee(c), now),
            ConnectionCommand.Cancel => c.Cancel(Inviter(c), now),
            ConnectionCommand.Deactivate => c.Deactivate(ThreePl, now),
            ConnectionCommand.Reactivate => c.Reactivate(ThreePl, now),
            ConnectionCommand.Disconnect => c.Disconnect(ThreePl, now),
            ConnectionCommand.Expire => c.Expire(c.ExpiresAt),
            _ => throw new ArgumentOutOfRangeException(nameof(command)),
        };
    }

    public static void Ok<T>(Outcome<T> outcome) =>
        Assert.True(outcome.Succeeded, outcome.Error?.ToString());

    public static void Fails<T>(Outcome<T> outcome, string code)
    {
        Assert.False(outcome.Succeeded);
        Assert.Equal(code, outcome.Error!.Code);
        Assert.Empty(outcome.Events);
    }
}
