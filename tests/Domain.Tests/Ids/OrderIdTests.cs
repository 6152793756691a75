using ThreePL.Domain.Common;

namespace ThreePL.Domain.Tests.Ids;

public class OrderIdTests
{
    private static readonly byte[] Digest = Enumerable.Range(0, 32).Select(i => (byte)(i * 7)).ToArray();

    [Fact]
    public void An_id_in_a_merchant_partition_names_its_merchant_and_round_trips()
    {
        var merchant = AccountId.New();
        var id = OrderId.InMerchantPartition(merchant, Digest);

        Assert.Equal(merchant, id.Merchant);
        Assert.Equal(OrderId.Parse(id.Value), id);
        Assert.Equal(24, id.Own.Length);
        Assert.StartsWith(id.Own, id.Value, StringComparison.Ordinal);
        Assert.EndsWith(merchant.Value[4..], id.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void An_id_of_the_older_form_has_no_merchant_and_is_its_own_part()
    {
        var id = OrderId.New();

        Assert.Null(id.Merchant);
        Assert.Equal(id.Value, id.Own);
        Assert.True(OrderId.TryParse(id.Value, out _));
    }

    [Fact]
    public void The_same_digest_gives_the_same_own_part_for_every_merchant()
    {
        var first = OrderId.InMerchantPartition(AccountId.New(), Digest);
        var second = OrderId.InMerchantPartition(AccountId.New(), Digest);

        Assert.Equal(first.Own, second.Own);
        Assert.NotEqual(first, second);
    }

    [Theory]
    [InlineData("ord_0123456789abcdefghjk0123456789abcdefghj")]
    [InlineData("ord_0123456789abcdefghjk0123456789abcdefghjkm")]
    [InlineData("ord_0123456789abcdefghjk0123456789abcdefghjU")]
    [InlineData("ord_0123456789abcdefghjk|123456789abcdefghjk")]
    [InlineData("ord_0123456789abcdefghjkacc_456789abcdefghjk")]
    [InlineData("acc_0123456789abcdefghjk0123456789abcdefghjk")]
    [InlineData("ord_0123456789abcdefghj")]
    [InlineData("")]
    public void Malformed_ids_are_refused(string value) => Assert.False(OrderId.TryParse(value, out _));
}
