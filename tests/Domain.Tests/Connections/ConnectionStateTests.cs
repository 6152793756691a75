using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;

namespace ThreePL.Domain.Tests.Connections;

public class ConnectionStateTests
{
    [Theory]
    [InlineData(ConnectionStatus.Pending)]
    [InlineData(ConnectionStatus.Active)]
    [InlineData(ConnectionStatus.Inactive)]
    [InlineData(ConnectionStatus.Declined)]
    [InlineData(ConnectionStatus.Cancelled)]
    [InlineData(ConnectionStatus.Expired)]
    [InlineData(ConnectionStatus.Disconnected)]
    public void Restore_round_trips_every_status(ConnectionStatus status)
    {
        var c = new ConnectionFixture().InStatus(status);

        Assert.Equal(c.ToState(), Connection.Restore(c.ToState()).ToState());
    }

    [Fact]
    public void Restore_throws_for_impossible_states()
    {
        var f = new ConnectionFixture();
        var pending = f.Invite().ToState();
        var active = f.InStatus(ConnectionStatus.Active).ToState();

        Assert.Throws<InvalidOperationException>(() => Connection.Restore(pending with { MerchantAccountId = pending.ThreePlAccountId }));
        Assert.Throws<InvalidOperationException>(() => Connection.Restore(pending with { Status = (ConnectionStatus)42 }));
        Assert.Throws<InvalidOperationException>(() => Connection.Restore(pending with { Version = 0 }));
        Assert.Throws<InvalidOperationException>(() => Connection.Restore(pending with { ExpiresAt = pending.CreatedAt }));
        Assert.Throws<InvalidOperationException>(() => Connection.Restore(pending with { StatusChangedBy = f.Merchant }));
        Assert.Throws<InvalidOperationException>(() => Connection.Restore(pending with { RemindAt = pending.ExpiresAt }));
        Assert.Throws<InvalidOperationException>(() => Connection.Restore(active with { RemindAt = active.CreatedAt.AddTicks(-1) }));
        Assert.Throws<InvalidOperationException>(() => Connection.Restore(active with { StatusChangedBy = null }));
        Assert.Throws<InvalidOperationException>(() => Connection.Restore(active with { StatusChangedBy = AccountId.New() }));
    }

    [Fact]
    public void Status_wire_names_round_trip_and_reject_other_spellings()
    {
        foreach (var status in Enum.GetValues<ConnectionStatus>())
        {
            Assert.True(ConnectionStatusNames.TryParse(ConnectionStatusNames.ToWire(status), out var parsed));
            Assert.Equal(status, parsed);
        }
        Assert.Equal(["pending", "active", "inactive", "declined", "cancelled", "expired", "disconnected"], ConnectionStatusNames.All);
        Assert.False(ConnectionStatusNames.TryParse("Active", out _));
        Assert.False(ConnectionStatusNames.TryParse("", out _));
        Assert.False(ConnectionStatusNames.TryParse(null, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => ConnectionStatusNames.ToWire((ConnectionStatus)99));
    }

    [Fact]
    public void Open_and_terminal_partition_the_statuses()
    {
        foreach (var status in Enum.GetValues<ConnectionStatus>())
        {
            Assert.NotEqual(status.IsOpen(), status.IsTerminal());
        }
        Assert.True(ConnectionStatus.Inactive.IsOpen());
        Assert.True(ConnectionStatus.Expired.IsTerminal());
    }

    [Fact]
    public void Party_wire_names_round_trip()
    {
        Assert.True(PartyNames.TryParse("threepl", out Party p));
        Assert.Equal(Party.ThreePl, p);
        Assert.True(PartyNames.TryParse("merchant", out SettingsOwner o));
        Assert.Equal(SettingsOwner.Merchant, o);
        Assert.False(PartyNames.TryParse("3pl", out Party _));
        Assert.Equal("merchant", PartyNames.ToWire(Party.Merchant));
        Assert.Equal("threepl", PartyNames.ToWire(SettingsOwner.ThreePl));
    }
}
