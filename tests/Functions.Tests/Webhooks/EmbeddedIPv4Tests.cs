using System.Net;
using ThreePL.Functions.Tests.Security;
using ThreePL.Functions.Webhooks;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Tests.Webhooks;

/// <summary>
/// An IPv6 address that embeds an IPv4 address is judged as that IPv4 address, in every spelling, both where a
/// URL is saved (<see cref="WebhookUrlPolicy"/>, also through the API in the hostile-input suite) and where a
/// delivery connects (<see cref="WebhookSender.ConnectAsync"/>, which re-checks whatever DNS answers then).
/// </summary>
public sealed class EmbeddedIPv4Tests
{
    public static TheoryData<string> Private() => new(HostileInputSuiteTests.EmbeddedPrivateIPv4);

    [Theory]
    [MemberData(nameof(Private))]
    public async Task A_private_address_inside_ipv6_is_refused_when_saved(string address)
    {
        var policy = new WebhookUrlPolicy(allowInsecureLoopback: false);

        Assert.Equal("Must resolve to public addresses only.", await policy.CheckAsync(new Uri($"https://[{address}]/hook"), default));
        Assert.NotNull(await new WebhookUrlPolicy(false, (_, _) => Task.FromResult(new[] { IPAddress.Parse(address) })).CheckAsync(new Uri("https://hooks.example.com/x"), default));
    }

    [Theory]
    [MemberData(nameof(Private))]
    public async Task A_private_address_inside_ipv6_is_refused_when_a_delivery_connects(string address)
    {
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => WebhookSender.ConnectAsync(new DnsEndPoint(address, 443), allowLoopback: false, default).AsTask());

        Assert.Contains("non-public", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("::ffff:8.8.8.8")]
    [InlineData("::ffff:0:808:808")]
    [InlineData("64:ff9b::8.8.8.8")]
    [InlineData("2002:808:808::1")]
    [InlineData("2001:0:808:808:0:0:f7f7:f7f7")]
    [InlineData("2606:4700:4700::1111")]
    public void A_public_address_inside_ipv6_stays_public(string address) =>
        Assert.True(WebhookUrlPolicy.IsPublic(IPAddress.Parse(address)));
}
