using FsCheck;
using FsCheck.Fluent;
using ThreePL.Domain.Common;
using ThreePL.Domain.Connections;

namespace ThreePL.Domain.Tests.Connections;

/// <summary>
/// Random sequences of commands by random actors (3PL, merchant, stranger) at random, non-decreasing times, with
/// a short TTL so expiry and reminders are reached often. After every command:
/// the status is a defined value; a success bumps Version by exactly 1, returns exactly one event for this
/// connection at <c>now</c> and follows the legal transition graph; a failure returns no event and leaves the
/// state equal to before; nothing succeeds from a terminal status; a stranger never succeeds; approval only by
/// the invitee before expiry; expiry only at or after ExpiresAt; a reminder is pending only while pending;
/// StatusChangedBy fits the status; and Restore(ToState()) reproduces the state.
/// </summary>
public class ConnectionPropertyTests
{
    private sealed record Step(ConnectionCommand Command, int Actor, int MinutesLater, bool Confirmed);

    private sealed record Scenario(Party InvitedBy, int ReminderAfterMinutes, Step[] Steps);

    private static readonly HashSet<(ConnectionStatus, ConnectionStatus)> Edges =
    [
        (ConnectionStatus.Pending, ConnectionStatus.Active),
        (ConnectionStatus.Pending, ConnectionStatus.Declined),
        (ConnectionStatus.Pending, ConnectionStatus.Cancelled),
        (ConnectionStatus.Pending, ConnectionStatus.Expired),
        (ConnectionStatus.Pending, ConnectionStatus.Pending),
        (ConnectionStatus.Active, ConnectionStatus.Inactive),
        (ConnectionStatus.Inactive, ConnectionStatus.Active),
        (ConnectionStatus.Active, ConnectionStatus.Disconnected),
        (ConnectionStatus.Inactive, ConnectionStatus.Disconnected),
    ];

    private static readonly string[] Codes =
    [
        ConnectionErrors.InvalidTransition, ConnectionErrors.ConfirmationRequired, ConnectionErrors.InvitationExpired,
        ConnectionErrors.NotInvitee, ConnectionErrors.NotInviter, ConnectionErrors.NotAParty, ConnectionErrors.NotDue,
    ];

    private static readonly Gen<Step> StepGen =
        from command in Gen.Elements(Enum.GetValues<ConnectionCommand>())
        from actor in Gen.Elements(0, 0, 1, 1, 2)
        from minutes in Gen.Frequency((4, Gen.Choose(0, 90)), (1, Gen.Choose(0, 900)))
        from confirmed in Gen.Elements(true, true, false)
        select new Step(command, actor, minutes, confirmed);

    private static readonly Gen<Scenario> ScenarioGen =
        from invitedBy in Gen.Elements(Party.ThreePl, Party.Merchant)
        from reminder in Gen.Choose(0, 3500)
        from steps in Gen.ArrayOf(StepGen)
        select new Scenario(invitedBy, reminder, steps);

    private const int Ttl = 3000;

    [Fact]
    public void Invariants_hold_after_any_sequence_of_commands()
    {
        var reached = new HashSet<ConnectionStatus>();
        var property = Prop.ForAll(ScenarioGen.ToArbitrary(), scenario => Run(scenario, reached));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500), property);

        // The generator must actually drive the connection through every status, or the property proves little.
        Assert.Equal(Enum.GetValues<ConnectionStatus>().ToHashSet(), reached);
    }

    private static void Run(Scenario scenario, HashSet<ConnectionStatus> reached)
    {
        var f = new ConnectionFixture();
        var now = ConnectionFixture.T0;
        var (c, _) = Connection.Invite(ConnectionId.New(), f.ThreePl, f.Merchant, scenario.InvitedBy, "x@example.com", null, null,
            now, TimeSpan.FromMinutes(Ttl), TimeSpan.FromMinutes(scenario.ReminderAfterMinutes));
        AssertStructure(c, f);

        foreach (var step in scenario.Steps)
        {
            now = now.AddMinutes(step.MinutesLater);
            var actor = step.Actor switch { 0 => f.ThreePl, 1 => f.Merchant, _ => f.Stranger };
            var before = c.ToState();

            var outcome = step.Command switch
            {
                ConnectionCommand.Approve => c.Approve(actor, step.Confirmed, now),
                ConnectionCommand.Decline => c.Decline(actor, now),
                ConnectionCommand.Cancel => c.Cancel(actor, now),
                ConnectionCommand.Deactivate => c.Deactivate(actor, now),
                ConnectionCommand.Reactivate => c.Reactivate(actor, now),
                ConnectionCommand.Disconnect => c.Disconnect(actor, now),
                _ => c.Expire(now),
            };

            Assert.True(Enum.IsDefined(c.Status));
            reached.Add(c.Status);
            if (outcome.Succeeded)
            {
                Assert.False(before.Status.IsTerminal());
                Assert.Equal(before.Version + 1, c.Version);
                Assert.Contains((before.Status, c.Status), Edges);
                var @event = Assert.Single(outcome.Events);
                Assert.Equal(c.Id, @event.ConnectionId);
                Assert.Equal(now, @event.OccurredAt);
                Assert.Equal(now, c.UpdatedAt);
                if (step.Command is not ConnectionCommand.Expire)
                {
                    Assert.NotEqual(f.Stranger, actor);
                }
                switch (@event)
                {
                    case ConnectionApproved approved:
                        Assert.Equal(c.AccountOf(c.Invitee), approved.ApprovedBy);
                        Assert.True(step.Confirmed);
                        Assert.True(now < c.ExpiresAt);
                        break;
                    case ConnectionExpired:
                        Assert.True(now >= c.ExpiresAt);
                        break;
                }
            }
            else
            {
                Assert.Empty(outcome.Events);
                Assert.Contains(outcome.Error!.Code, Codes);
                Assert.Equal(before, c.ToState());
            }
            AssertStructure(c, f);
        }
    }

    private static void AssertStructure(Connection c, ConnectionFixture f)
    {
        Assert.True(c.RemindAt is null || (c.RemindAt >= c.CreatedAt && c.RemindAt < c.ExpiresAt));
        if (c.Status is ConnectionStatus.Pending or ConnectionStatus.Expired)
        {
            Assert.Null(c.StatusChangedBy);
        }
        else
        {
            Assert.Contains(c.StatusChangedBy!.Value, new[] { f.ThreePl, f.Merchant });
        }
        Assert.Equal(c.ToState(), Connection.Restore(c.ToState()).ToState());
    }
}
