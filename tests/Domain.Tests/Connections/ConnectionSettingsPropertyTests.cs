using FsCheck;
using FsCheck.Fluent;
using ThreePL.Domain.Connections;

namespace ThreePL.Domain.Tests.Connections;

/// <summary>
/// Random sequences of settings changes (valid and invalid): the version rises by exactly one when and only when
/// a valid change alters a value; an invalid change returns the same settings; values always pass Restore.
/// </summary>
public class ConnectionSettingsPropertyTests
{
    private static readonly Gen<ConnectionSettingsChange> ChangeGen =
        from manage in Gen.Elements<bool?>(null, true, false)
        from shipping in Gen.Elements<SettingsOwner?>(null, SettingsOwner.ThreePl, SettingsOwner.Merchant)
        from fee in Gen.Elements<SettingsOwner?>(null, SettingsOwner.ThreePl, SettingsOwner.Merchant, (SettingsOwner)5)
        from tickets in Gen.Elements<SettingsOwner?>(null, SettingsOwner.ThreePl, SettingsOwner.Merchant)
        from id in Gen.Elements<string?>(null, "", "C-1", "C-2", new string('x', 65), "bad\u0001")
        from url in Gen.Elements<string?>(null, "", "https://a.example/h", "http://b.example/h", "ftp://c.example", "relative")
        select new ConnectionSettingsChange(manage, shipping, fee, tickets, id, url);

    [Fact]
    public void Version_rises_exactly_when_a_valid_change_alters_a_value()
    {
        var property = Prop.ForAll(Gen.ArrayOf(ChangeGen).ToArbitrary(), changes =>
        {
            var settings = ConnectionSettings.Default;
            foreach (var change in changes)
            {
                var outcome = settings.Apply(change);
                if (!outcome.Succeeded)
                {
                    Assert.Same(settings, outcome.Settings);
                    Assert.False(outcome.Changed);
                    Assert.NotEmpty(outcome.Errors);
                }
                else if (outcome.Changed)
                {
                    Assert.Equal(settings.Version + 1, outcome.Settings.Version);
                    Assert.NotEqual(settings with { }, outcome.Settings);
                }
                else
                {
                    Assert.Same(settings, outcome.Settings);
                }
                settings = outcome.Settings;
                Assert.Equal(settings, ConnectionSettings.Restore(settings.ToState()));
            }
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), property);
    }
}
