using ThreePL.Domain.Connections;

namespace ThreePL.Domain.Tests.Connections;

public class ConnectionTransitionTests
{
    /// <summary>The legal transitions; every pair not listed must fail with invalid_transition.</summary>
    private static readonly Dictionary<(ConnectionStatus, ConnectionCommand), (ConnectionStatus To, Type Event)> Legal = new()
    {
        [(ConnectionStatus.Pending, ConnectionCommand.Approve)] = (ConnectionStatus.Active, typeof(ConnectionApproved)),
        [(ConnectionStatus.Pending, ConnectionCommand.Decline)] = (ConnectionStatus.Declined, typeof(ConnectionDeclined)),
        [(ConnectionStatus.Pending, ConnectionCommand.Cancel)] = (ConnectionStatus.Cancelled, typeof(ConnectionCancelled)),
        [(ConnectionStatus.Pending, ConnectionCommand.Expire)] = (ConnectionStatus.Expired, typeof(ConnectionExpired)),
        [(ConnectionStatus.Active, ConnectionCommand.Deactivate)] = (ConnectionStatus.Inactive, typeof(ConnectionDeactivated)),
        [(ConnectionStatus.Active, ConnectionCommand.Disconnect)] = (ConnectionStatus.Disconnected, typeof(ConnectionDisconnected)),
        [(ConnectionStatus.Inactive, ConnectionCommand.Reactivate)] = (ConnectionStatus.Active, typeof(ConnectionReactivated)),
        [(ConnectionStatus.Inactive, ConnectionCommand.Disconnect)] = (ConnectionStatus.Disconnected, typeof(ConnectionDisconnected)),
    };

    public static TheoryData<ConnectionStatus, ConnectionCommand> AllPairs()
    {
        var data = new TheoryData<ConnectionStatus, ConnectionCommand>();
        foreach (var status in Enum.GetValues<ConnectionStatus>())
        {
            foreach (var command in Enum.GetValues<ConnectionCommand>())
            {
                data.Add(status, command);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(AllPairs))]
    public void Every_status_and_command_pair_behaves_as_the_table_says(ConnectionStatus status, ConnectionCommand command)
    {
        var fixture = new ConnectionFixture();
        var connection = fixture.InStatus(status);
        var before = connection.ToState();

        var outcome = fixture.Run(connection, command);

        if (Legal.TryGetValue((status, command), out var expected))
        {
            ConnectionFixture.Ok(outcome);
            Assert.Equal(expected.To, connection.Status);
            var @event = Assert.Single(outcome.Events);
            Assert.IsType(expected.Event, @event);
            Assert.Equal(connection.Id, @event.ConnectionId);
            Assert.Equal(before.Version + 1, connection.Version);
        }
        else
        {
            ConnectionFixture.Fails(outcome, ConnectionErrors.InvalidTransition);
            Assert.Contains($"is {ConnectionStatusNames.ToWire(status)};", outcome.Error!.Message, StringComparison.Ordinal);
            Assert.Equal(before, connection.ToState());
        }
    }

    [Fact]
    public void The_table_covers_the_full_cross_product_and_names_only_real_pairs()
    {
        var pairs = AllPairs().Select(row => ((ConnectionStatus)row[0], (ConnectionCommand)row[1])).ToHashSet();
        Assert.Equal(Enum.GetValues<ConnectionStatus>().Length * Enum.GetValues<ConnectionCommand>().Length, pairs.Count);
        Assert.Subset(pairs, Legal.Keys.ToHashSet());
    }

    [Fact]
    public void Terminal_statuses_accept_no_command()
    {
        Assert.DoesNotContain(Legal.Keys, k => k.Item1.IsTerminal());
    }

    [Fact]
    public void Invalid_transition_message_names_the_current_status()
    {
        var fixture = new ConnectionFixture();
        var connection = fixture.InStatus(ConnectionStatus.Declined);

        var outcome = connection.Approve(fixture.Merchant, true, ConnectionFixture.T0.AddHours(2));

        Assert.Equal("The connection is declined; it cannot be approved.", outcome.Error!.Message);
    }

    [Fact]
    public void Invite_starts_pending_at_version_1_with_expiry_and_reminder()
    {
        var fixture = new ConnectionFixture();
        var id = Common.ConnectionId.New();

        var (connection, invited) = Connection.Invite(id, fixture.ThreePl, fixture.Merchant, Party.Merchant, null, null, null,
            ConnectionFixture.T0, ConnectionFixture.Ttl, ConnectionFixture.ReminderAfter);

        Assert.Equal(ConnectionStatus.Pending, connection.Status);
        Assert.Equal(1, connection.Version);
        Assert.Equal(ConnectionFixture.T0 + ConnectionFixture.Ttl, connection.ExpiresAt);
        Assert.Equal(ConnectionFixture.T0 + ConnectionFixture.ReminderAfter, connection.RemindAt);
        Assert.Equal(Party.ThreePl, connection.Invitee);
        Assert.Equal("connection.invited", invited.Type);
        Assert.Equal(id, invited.ConnectionId);
        Assert.Equal(connection.ExpiresAt, invited.ExpiresAt);
    }

    [Fact]
    public void Invite_throws_for_impossible_arguments()
    {
        var f = new ConnectionFixture();
        var id = Common.ConnectionId.New();
        var t = ConnectionFixture.T0;
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            Connection.Invite(id, f.ThreePl, f.Merchant, Party.ThreePl, null, null, null, t, TimeSpan.Zero, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            Connection.Invite(id, f.ThreePl, f.Merchant, Party.ThreePl, null, null, null, t, TimeSpan.FromDays(1), TimeSpan.FromSeconds(-1)));
        Assert.Throws<ArgumentException>(() =>
            Connection.Invite(id, f.ThreePl, f.ThreePl, Party.ThreePl, null, null, null, t, TimeSpan.FromDays(1), TimeSpan.Zero));
        Assert.Throws<InvalidOperationException>(() =>
            Connection.Invite(default, f.ThreePl, f.Merchant, Party.ThreePl, null, null, null, t, TimeSpan.FromDays(1), TimeSpan.Zero));
    }

    [Theory]
    [InlineData(ConnectionStatus.Active, ConnectionEventKind.Deactivated)]
    [InlineData(ConnectionStatus.Inactive, ConnectionEventKind.Disconnected)]
    public void Deactivated_and_disconnected_events_carry_the_actor(ConnectionStatus status, ConnectionEventKind kind)
    {
        var f = new ConnectionFixture();
        var c = f.InStatus(status);
        var now = ConnectionFixture.T0.AddDays(1);

        var outcome = kind == ConnectionEventKind.Deactivated ? c.Deactivate(f.Merchant, now) : c.Disconnect(f.Merchant, now);

        var @event = Assert.Single(outcome.Events);
        Assert.Equal(f.Merchant, @event switch
        {
            ConnectionDeactivated d => d.DeactivatedBy,
            ConnectionDisconnected d => d.DisconnectedBy,
            _ => default,
        });
        Assert.Equal(now, @event.OccurredAt);
        Assert.Equal(f.Merchant, c.StatusChangedBy);
    }

    [Fact]
    public void Event_types_are_the_published_wire_names()
    {
        var id = Common.ConnectionId.New();
        var a = Common.AccountId.New();
        var t = ConnectionFixture.T0;
        Assert.Equal("connection.approved", new ConnectionApproved(id, t, a).Type);
        Assert.Equal("connection.declined", new ConnectionDeclined(id, t, a).Type);
        Assert.Equal("connection.cancelled", new ConnectionCancelled(id, t, a).Type);
        Assert.Equal("connection.expired", new ConnectionExpired(id, t).Type);
        Assert.Equal("connection.deactivated", new ConnectionDeactivated(id, t, a).Type);
        Assert.Equal("connection.reactivated", new ConnectionReactivated(id, t, a).Type);
        Assert.Equal("connection.disconnected", new ConnectionDisconnected(id, t, a).Type);
    }
}

public enum ConnectionEventKind
{
    Deactivated,
    Disconnected,
}
