using ThreePL.Domain.Connections;

namespace ThreePL.Domain.Tests.Connections;

public class ConnectionSettingsTests
{
    private static readonly ConnectionSettings Defaults = ConnectionSettings.Default;

    [Fact]
    public void Defaults_are_version_1_managed_and_owned_by_the_3pl()
    {
        Assert.Equal(1, Defaults.Version);
        Assert.True(Defaults.ManageOrders);
        Assert.Equal(SettingsOwner.ThreePl, Defaults.ShippingRules);
        Assert.Equal(SettingsOwner.ThreePl, Defaults.OrderFeeBilledTo);
        Assert.Equal(SettingsOwner.ThreePl, Defaults.SupportTickets);
        Assert.Null(Defaults.InternalCustomerId);
        Assert.Null(Defaults.WebhookUrl);
    }

    [Fact]
    public void Apply_makes_a_new_version_with_only_the_given_fields_changed()
    {
        var outcome = Defaults.Apply(new ConnectionSettingsChange(ManageOrders: false, OrderFeeBilledTo: SettingsOwner.Merchant));

        Assert.True(outcome.Succeeded);
        Assert.True(outcome.Changed);
        Assert.Null(outcome.Error);
        var s = outcome.Settings;
        Assert.Equal(2, s.Version);
        Assert.False(s.ManageOrders);
        Assert.Equal(SettingsOwner.Merchant, s.OrderFeeBilledTo);
        Assert.Equal(SettingsOwner.ThreePl, s.ShippingRules);
        Assert.Equal(SettingsOwner.ThreePl, s.SupportTickets);
        Assert.Equal(1, Defaults.Version);
    }

    [Fact]
    public void Each_real_change_bumps_the_version_by_one()
    {
        var s = Defaults;
        s = s.Apply(new ConnectionSettingsChange(ShippingRules: SettingsOwner.Merchant)).Settings;
        s = s.Apply(new ConnectionSettingsChange(SupportTickets: SettingsOwner.Merchant)).Settings;
        s = s.Apply(new ConnectionSettingsChange(InternalCustomerId: "C-1")).Settings;
        s = s.Apply(new ConnectionSettingsChange(WebhookUrl: "https://wms.example.com/hook")).Settings;

        Assert.Equal(5, s.Version);
        Assert.Equal(SettingsOwner.Merchant, s.ShippingRules);
        Assert.Equal(SettingsOwner.Merchant, s.SupportTickets);
        Assert.Equal("C-1", s.InternalCustomerId);
        Assert.Equal(new Uri("https://wms.example.com/hook"), s.WebhookUrl);
    }

    [Fact]
    public void Apply_without_a_real_difference_keeps_the_same_version()
    {
        var s = Defaults.Apply(new ConnectionSettingsChange(InternalCustomerId: "C-1")).Settings;

        var empty = s.Apply(new ConnectionSettingsChange());
        var same = s.Apply(new ConnectionSettingsChange(ManageOrders: true, ShippingRules: SettingsOwner.ThreePl, InternalCustomerId: "C-1"));

        Assert.True(empty.Succeeded);
        Assert.False(empty.Changed);
        Assert.Same(s, empty.Settings);
        Assert.False(same.Changed);
        Assert.Same(s, same.Settings);
        Assert.Equal(2, same.Settings.Version);
    }

    [Fact]
    public void Empty_strings_clear_the_text_fields()
    {
        var s = Defaults.Apply(new ConnectionSettingsChange(InternalCustomerId: "C-1", WebhookUrl: "https://a.example/h")).Settings;

        var cleared = s.Apply(new ConnectionSettingsChange(InternalCustomerId: "", WebhookUrl: "")).Settings;

        Assert.Null(cleared.InternalCustomerId);
        Assert.Null(cleared.WebhookUrl);
        Assert.Equal(3, cleared.Version);
    }

    [Fact]
    public void InternalCustomerId_of_64_characters_is_accepted()
    {
        var outcome = Defaults.Apply(new ConnectionSettingsChange(InternalCustomerId: new string('x', 64)));

        Assert.True(outcome.Succeeded);
        Assert.Equal(64, outcome.Settings.InternalCustomerId!.Length);
    }

    [Fact]
    public void InternalCustomerId_of_65_characters_is_rejected_and_nothing_changes()
    {
        var outcome = Defaults.Apply(new ConnectionSettingsChange(ManageOrders: false, InternalCustomerId: new string('x', 65)));

        Assert.False(outcome.Succeeded);
        Assert.False(outcome.Changed);
        Assert.Same(Defaults, outcome.Settings);
        Assert.Equal(["internalCustomerId"], outcome.Errors.Keys);
        Assert.Equal(ConnectionErrors.ValidationFailed, outcome.Error!.Code);
        Assert.Contains("internalCustomerId", outcome.Error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("abc\u0000")]
    [InlineData("line\nbreak")]
    [InlineData("tab\t")]
    [InlineData("   ")]
    public void InternalCustomerId_with_control_characters_or_blank_is_rejected(string value)
    {
        var outcome = Defaults.Apply(new ConnectionSettingsChange(InternalCustomerId: value));

        Assert.True(outcome.Errors.ContainsKey("internalCustomerId"));
    }

    [Theory]
    [InlineData("https://wms.example.com/hooks/client-1")]
    [InlineData("http://localhost:8080/hook")]
    [InlineData("https://wms.example.com:8443/h?client=1")]
    public void WebhookUrl_accepts_absolute_http_and_https(string url)
    {
        var outcome = Defaults.Apply(new ConnectionSettingsChange(WebhookUrl: url));

        Assert.True(outcome.Succeeded, string.Join(",", outcome.Errors.Keys));
        Assert.Equal(new Uri(url), outcome.Settings.WebhookUrl);
    }

    [Theory]
    [InlineData("/relative/path")]
    [InlineData("wms.example.com/hook")]
    [InlineData("ftp://wms.example.com/hook")]
    [InlineData("file:///etc/passwd")]
    [InlineData("javascript:alert(1)")]
    [InlineData("https://user:pass@wms.example.com/hook")]
    [InlineData("https://user@wms.example.com/hook")]
    [InlineData("https://wms.example.com/ho ok")]
    [InlineData("https://wms.example.com/\nhook")]
    [InlineData("   ")]
    public void WebhookUrl_rejects_anything_but_plain_absolute_http_urls(string url)
    {
        var outcome = Defaults.Apply(new ConnectionSettingsChange(WebhookUrl: url));

        Assert.False(outcome.Succeeded);
        Assert.Equal(["webhookUrl"], outcome.Errors.Keys);
    }

    [Fact]
    public void WebhookUrl_length_limit_is_2048_characters()
    {
        const string prefix = "https://wms.example.com/";
        var longest = prefix + new string('a', 2048 - prefix.Length);

        Assert.True(Defaults.Apply(new ConnectionSettingsChange(WebhookUrl: longest)).Succeeded);
        Assert.False(Defaults.Apply(new ConnectionSettingsChange(WebhookUrl: longest + "a")).Succeeded);
    }

    [Fact]
    public void Undefined_owners_are_field_errors_reported_together()
    {
        var outcome = Defaults.Apply(new ConnectionSettingsChange(
            ShippingRules: (SettingsOwner)7, OrderFeeBilledTo: (SettingsOwner)8, SupportTickets: (SettingsOwner)9,
            WebhookUrl: "nope"));

        Assert.Equal(
            new[] { "orderFeeBilledTo", "shippingRules", "supportTickets", "webhookUrl" },
            outcome.Errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Restore_round_trips_and_rejects_impossible_settings()
    {
        var s = Defaults.Apply(new ConnectionSettingsChange(InternalCustomerId: "C-1", WebhookUrl: "https://a.example/h")).Settings;

        var restored = ConnectionSettings.Restore(s.ToState());

        Assert.Equal(s, restored);
        Assert.Throws<InvalidOperationException>(() => ConnectionSettings.Restore(s.ToState() with { Version = 0 }));
        Assert.Throws<InvalidOperationException>(() => ConnectionSettings.Restore(s.ToState() with { WebhookUrl = "ftp://x" }));
        Assert.Throws<InvalidOperationException>(() => ConnectionSettings.Restore(s.ToState() with { InternalCustomerId = new string('x', 65) }));
    }

    [Theory]
    [InlineData("PT5M", 5 * 60)]
    [InlineData("PT4H", 4 * 3600)]
    [InlineData("P1DT30M", 24 * 3600 + 30 * 60)]
    [InlineData("P30D", 30 * 24 * 3600)]
    [InlineData("PT300S", 300)]
    public void AcceptWithin_takes_an_iso_8601_duration_between_5_minutes_and_30_days(string value, int seconds)
    {
        var outcome = Defaults.Apply(new ConnectionSettingsChange(AcceptWithin: value));

        Assert.True(outcome.Changed);
        Assert.Equal(TimeSpan.FromSeconds(seconds), outcome.Settings.AcceptWithin);
        Assert.Equal(outcome.Settings.AcceptWithin, ConnectionSettings.Restore(outcome.Settings.ToState()).AcceptWithin);
        Assert.Equal(outcome.Settings.AcceptWithin, Domain.Orders.Delegation.From(Common.ConnectionId.New(), outcome.Settings).AcceptWithin);
    }

    [Theory]
    [InlineData("PT4M59S")]
    [InlineData("P30DT1S")]
    [InlineData("P1M")]
    [InlineData("P1Y")]
    [InlineData("PT")]
    [InlineData("P")]
    [InlineData("4h")]
    [InlineData("-PT4H")]
    [InlineData("P99999999999999D")]
    public void AcceptWithin_refuses_other_values(string value)
    {
        var outcome = Defaults.Apply(new ConnectionSettingsChange(AcceptWithin: value));

        Assert.False(outcome.Succeeded);
        Assert.Equal(["acceptWithin"], outcome.Errors.Keys);
        Assert.Null(outcome.Settings.AcceptWithin);
    }

    [Fact]
    public void AcceptWithin_is_off_by_default_and_an_empty_string_switches_it_off()
    {
        Assert.Null(Defaults.AcceptWithin);
        var on = Defaults.Apply(new ConnectionSettingsChange(AcceptWithin: "PT4H")).Settings;

        var off = on.Apply(new ConnectionSettingsChange(AcceptWithin: ""));
        var same = on.Apply(new ConnectionSettingsChange(AcceptWithin: "PT240M"));

        Assert.True(off.Changed);
        Assert.Null(off.Settings.AcceptWithin);
        Assert.False(same.Changed);
        Assert.Equal("PT4H", ConnectionSettings.FormatDuration(on.AcceptWithin!.Value));
        Assert.Throws<InvalidOperationException>(() => ConnectionSettings.Restore(on.ToState() with { AcceptWithin = TimeSpan.FromMinutes(1) }));
    }
}
