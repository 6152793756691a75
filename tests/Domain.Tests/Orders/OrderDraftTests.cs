using ThreePL.Domain.Orders;
using static ThreePL.Domain.Tests.Orders.OrderFixture;

namespace ThreePL.Domain.Tests.Orders;

public class OrderDraftTests
{
    private static OrderLine Line(string sku = "SKU-1", int quantity = 1) => new(sku, quantity, null);

    private static OrderDraftResult Validate(
        string? externalId = "shop-1",
        IReadOnlyList<OrderLine?>? lines = null,
        Address? shipTo = null,
        string? shippingService = null,
        string? notes = null,
        bool noAddress = false) =>
        OrderDraft.Validate(externalId, lines ?? [Line()], noAddress ? null : shipTo ?? ValidAddress(), shippingService, notes);

    private static void OnlyError(OrderDraftResult result, string path)
    {
        Assert.False(result.Succeeded);
        Assert.Null(result.Draft);
        Assert.Equal([path], result.Errors.Keys);
    }

    [Fact]
    public void A_minimal_order_is_valid()
    {
        var result = Validate();

        Assert.True(result.Succeeded);
        Assert.Empty(result.Errors);
        Assert.Equal("shop-1", result.Draft!.ExternalId);
        Assert.Null(result.Draft.Notes);
        Assert.Null(result.Draft.ShippingService);
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(100, true)]
    [InlineData(101, false)]
    public void ExternalId_length_bounds(int length, bool valid)
    {
        var result = Validate(externalId: new string('e', length));

        if (valid)
        {
            Assert.True(result.Succeeded);
        }
        else
        {
            OnlyError(result, "externalId");
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("abc\u0007")]
    [InlineData("a\r\nb")]
    public void ExternalId_must_be_present_and_free_of_control_characters(string? externalId) =>
        OnlyError(Validate(externalId: externalId), "externalId");

    [Theory]
    [InlineData(1, true)]
    [InlineData(250, true)]
    [InlineData(251, false)]
    public void Line_count_bounds(int count, bool valid)
    {
        var lines = Enumerable.Range(0, count).Select(i => (OrderLine?)Line($"SKU-{i}")).ToList();

        var result = Validate(lines: lines);

        if (valid)
        {
            Assert.Equal(count, result.Draft!.Lines.Count);
        }
        else
        {
            OnlyError(result, "lines");
        }
    }

    [Fact]
    public void No_lines_is_an_error() => OnlyError(Validate(lines: []), "lines");

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(100_000, true)]
    [InlineData(100_001, false)]
    [InlineData(-5, false)]
    public void Quantity_bounds_are_reported_by_json_path(int quantity, bool valid)
    {
        var lines = new OrderLine?[] { Line("A"), Line("B"), Line("C"), Line("D", quantity) };

        var result = Validate(lines: lines);

        if (valid)
        {
            Assert.True(result.Succeeded);
        }
        else
        {
            OnlyError(result, "lines[3].quantity");
        }
    }

    [Theory]
    [InlineData(64, true)]
    [InlineData(65, false)]
    public void Sku_length_bounds(int length, bool valid)
    {
        var result = Validate(lines: [Line(new string('s', length))]);

        if (valid)
        {
            Assert.True(result.Succeeded);
        }
        else
        {
            OnlyError(result, "lines[0].sku");
        }
    }

    [Fact]
    public void Empty_sku_is_an_error() => OnlyError(Validate(lines: [Line("")]), "lines[0].sku");

    [Fact]
    public void Duplicate_skus_are_rejected_on_the_later_line()
    {
        var result = Validate(lines: [Line("A"), Line("B"), Line("A", 3)]);

        OnlyError(result, "lines[2].sku");
        Assert.Contains("lines[0]", result.Errors["lines[2].sku"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void Skus_differing_only_in_case_are_distinct() =>
        Assert.True(Validate(lines: [Line("abc"), Line("ABC")]).Succeeded);

    [Fact]
    public void A_null_line_is_an_error() => OnlyError(Validate(lines: [Line(), null]), "lines[1]");

    [Theory]
    [InlineData(2000, true)]
    [InlineData(2001, false)]
    public void Notes_length_bounds(int length, bool valid)
    {
        var result = Validate(notes: new string('n', length));

        if (valid)
        {
            Assert.True(result.Succeeded);
        }
        else
        {
            OnlyError(result, "notes");
        }
    }

    [Fact]
    public void Notes_may_contain_line_breaks_but_not_other_control_characters()
    {
        Assert.True(Validate(notes: "Ring twice.\r\nThen knock.\tThanks").Succeeded);
        OnlyError(Validate(notes: "bell\u0007"), "notes");
    }

    [Theory]
    [InlineData(100, true)]
    [InlineData(101, false)]
    public void ShippingService_length_bounds(int length, bool valid)
    {
        var result = Validate(shippingService: new string('x', length));

        if (valid)
        {
            Assert.True(result.Succeeded);
        }
        else
        {
            OnlyError(result, "shippingService");
        }
    }

    [Theory]
    [InlineData("DE")]
    [InlineData("US")]
    [InlineData("GB")]
    [InlineData("AX")]
    [InlineData("SS")]
    [InlineData("BQ")]
    public void Assigned_country_codes_are_accepted(string code) =>
        Assert.True(Validate(shipTo: ValidAddress() with { CountryCode = code }).Succeeded);

    [Fact]
    public void Lower_case_country_codes_are_accepted_and_stored_upper_case() =>
        Assert.Equal("DE", Validate(shipTo: ValidAddress() with { CountryCode = "de" }).Draft!.ShipTo.CountryCode);

    [Theory]
    [InlineData("UK")]
    [InlineData("XK")]
    [InlineData("ZZ")]
    [InlineData("EU")]
    [InlineData("D")]
    [InlineData("DEU")]
    [InlineData("")]
    [InlineData(null)]
    public void Unassigned_or_malformed_country_codes_are_rejected(string? code) =>
        OnlyError(Validate(shipTo: ValidAddress() with { CountryCode = code! }), "shipTo.countryCode");

    [Fact]
    public void The_country_list_has_the_249_assigned_codes() => Assert.Equal(249, CountryCodes.Count);

    [Fact]
    public void Missing_address_is_an_error() => OnlyError(Validate(noAddress: true), "shipTo");

    [Fact]
    public void Address_fields_are_checked_by_json_path()
    {
        var bad = new Address("", "", new string('l', 201), "", "", new string('r', 101), "GB", new string('1', 33), "not-an-email");

        var result = Validate(shipTo: bad);

        Assert.Equal(
            new[]
            {
                "shipTo.city", "shipTo.email", "shipTo.line1", "shipTo.line2", "shipTo.name", "shipTo.phone",
                "shipTo.postalCode", "shipTo.region",
            },
            result.Errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var result = OrderDraft.Validate("", [new OrderLine("", 0, null)], null, new string('x', 101), null);

        Assert.Equal(
            new[] { "externalId", "lines[0].quantity", "lines[0].sku", "shipTo", "shippingService" },
            result.Errors.Keys.Order(StringComparer.Ordinal));
    }
}
