using Azure;
using ThreePL.Functions.Storage.Tables;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Storage;

[Collection("azurite")]
public sealed class TableClientTests(AzuriteFixture azurite)
{
    private readonly TableServiceClient _service = new(azurite.Account);

    private async Task<TableClient> NewTableAsync()
    {
        var table = _service.GetTableClient(AzuriteFixture.UniqueName("t"));
        await table.CreateIfNotExistsAsync();
        return table;
    }

    [Fact]
    public async Task Create_if_not_exists_is_idempotent_and_delete_tolerates_missing()
    {
        var table = _service.GetTableClient(AzuriteFixture.UniqueName("t"));

        Assert.Equal(204, (await table.CreateIfNotExistsAsync()).Status);
        Assert.Equal(409, (await table.CreateIfNotExistsAsync()).Status);
        Assert.Equal(204, (await table.DeleteAsync()).Status);
        Assert.Equal(404, (await table.DeleteAsync()).Status);
    }

    [Fact]
    public async Task Add_get_and_delete_round_trip_with_etags()
    {
        var table = await NewTableAsync();
        var entity = new TableEntity("p1", "r1") { ["Name"] = "widget" };

        var added = await table.AddEntityAsync(entity);
        var fetched = (await table.GetEntityAsync("p1", "r1")).Value;

        Assert.Equal(204, added.Status);
        Assert.Equal(added.GetETag(), fetched.ETag);
        Assert.Equal("widget", fetched.GetString("Name"));
        Assert.NotNull(fetched.Timestamp);
        Assert.False(fetched.ContainsKey("Timestamp"));

        Assert.Equal(204, (await table.DeleteEntityAsync("p1", "r1")).Status);
        Assert.False((await table.GetEntityIfExistsAsync("p1", "r1")).HasValue);
    }

    [Fact]
    public async Task Add_of_existing_keys_fails_with_409()
    {
        var table = await NewTableAsync();
        await table.AddEntityAsync(new TableEntity("p", "r"));

        var ex = await Assert.ThrowsAsync<RequestFailedException>(() => table.AddEntityAsync(new TableEntity("p", "r")));

        Assert.Equal(409, ex.Status);
        Assert.Equal("EntityAlreadyExists", ex.ErrorCode);
    }

    [Fact]
    public async Task Get_of_missing_entity_throws_404_and_get_if_exists_returns_no_value()
    {
        var table = await NewTableAsync();

        var ex = await Assert.ThrowsAsync<RequestFailedException>(() => table.GetEntityAsync("nope", "nope"));
        var maybe = await table.GetEntityIfExistsAsync("nope", "nope");

        Assert.Equal(404, ex.Status);
        Assert.Equal("ResourceNotFound", ex.ErrorCode);
        Assert.False(maybe.HasValue);
        Assert.Equal(404, maybe.GetRawResponse().Status);
    }

    [Fact]
    public async Task Property_types_round_trip()
    {
        var table = await NewTableAsync();
        var when = new DateTimeOffset(2024, 2, 29, 13, 14, 15, TimeSpan.FromHours(2)).AddTicks(1234567);
        var guid = Guid.NewGuid();
        var entity = new TableEntity("types", "1")
        {
            ["Text"] = "héllo ✓",
            ["Int"] = 42,
            ["Long"] = 3L,
            ["BigLong"] = long.MaxValue,
            ["Bool"] = true,
            ["Double"] = 2.0,
            ["Fraction"] = 0.125,
            ["When"] = when,
            ["Utc"] = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc),
            ["Id"] = guid,
            ["Bytes"] = new byte[] { 0, 1, 254, 255 },
            ["Nothing"] = null,
        };

        await table.AddEntityAsync(entity);
        var back = (await table.GetEntityAsync("types", "1")).Value;

        Assert.Equal("héllo ✓", back.GetString("Text"));
        Assert.IsType<int>(back["Int"]);
        Assert.Equal(42, back.GetInt32("Int"));
        Assert.IsType<long>(back["Long"]);
        Assert.Equal(3L, back.GetInt64("Long"));
        Assert.Equal(long.MaxValue, back.GetInt64("BigLong"));
        Assert.True(back.GetBoolean("Bool"));
        Assert.IsType<double>(back["Double"]);
        Assert.Equal(2.0, back.GetDouble("Double"));
        Assert.Equal(0.125, back.GetDouble("Fraction"));
        Assert.IsType<DateTimeOffset>(back["When"]);
        Assert.Equal(when, back.GetDateTimeOffset("When"));
        Assert.Equal(TimeSpan.Zero, back.GetDateTimeOffset("When")!.Value.Offset);
        Assert.Equal(new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.Zero), back.GetDateTimeOffset("Utc"));
        Assert.Equal(guid, back.GetGuid("Id"));
        Assert.Equal(new byte[] { 0, 1, 254, 255 }, back.GetBinary("Bytes"));
        Assert.False(back.ContainsKey("Nothing"));
        Assert.Null(back.GetString("Missing"));
        Assert.Null(back.GetInt64("Missing"));
    }

    [Fact]
    public async Task Update_with_current_etag_succeeds_and_with_stale_etag_fails_412()
    {
        var table = await NewTableAsync();
        var firstETag = (await table.AddEntityAsync(new TableEntity("p", "r") { ["Count"] = 1 })).GetETag();

        var second = await table.UpdateEntityAsync(new TableEntity("p", "r") { ["Count"] = 2 }, firstETag);
        var ex = await Assert.ThrowsAsync<RequestFailedException>(
            () => table.UpdateEntityAsync(new TableEntity("p", "r") { ["Count"] = 3 }, firstETag));

        Assert.NotEqual(firstETag, second.GetETag());
        Assert.Equal(412, ex.Status);
        Assert.Equal("UpdateConditionNotSatisfied", ex.ErrorCode);
        Assert.Equal(2, (await table.GetEntityAsync("p", "r")).Value.GetInt32("Count"));
    }

    [Fact]
    public async Task Merge_keeps_other_properties_and_replace_drops_them()
    {
        var table = await NewTableAsync();
        await table.AddEntityAsync(new TableEntity("p", "r") { ["A"] = "a", ["B"] = "b" });

        await table.UpdateEntityAsync(new TableEntity("p", "r") { ["B"] = "b2" }, ETag.All);
        var merged = (await table.GetEntityAsync("p", "r")).Value;
        await table.UpsertEntityAsync(new TableEntity("p", "r") { ["C"] = "c" }, TableUpdateMode.Replace);
        var replaced = (await table.GetEntityAsync("p", "r")).Value;

        Assert.Equal(("a", "b2"), (merged.GetString("A"), merged.GetString("B")));
        Assert.Equal((null, null, "c"), (replaced.GetString("A"), replaced.GetString("B"), replaced.GetString("C")));
    }

    [Fact]
    public async Task Update_without_an_etag_is_refused_client_side()
    {
        var table = await NewTableAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => table.UpdateEntityAsync(new TableEntity("p", "r"), default));
    }

    [Fact]
    public async Task Conditional_delete_honours_etag_and_missing_entity_returns_404()
    {
        var table = await NewTableAsync();
        var stale = (await table.AddEntityAsync(new TableEntity("p", "r") { ["V"] = 1 })).GetETag();
        var current = (await table.UpdateEntityAsync(new TableEntity("p", "r") { ["V"] = 2 }, stale)).GetETag();

        var ex = await Assert.ThrowsAsync<RequestFailedException>(() => table.DeleteEntityAsync("p", "r", stale));
        var deleted = await table.DeleteEntityAsync("p", "r", current);
        var again = await table.DeleteEntityAsync("p", "r");

        Assert.Equal(412, ex.Status);
        Assert.Equal(204, deleted.Status);
        Assert.Equal(404, again.Status);
    }

    [Theory]
    [InlineData("it's")]
    [InlineData("' or PartitionKey ne '")]
    [InlineData("say \"hi\"")]
    [InlineData("ünïcødé ✓ 日本")]
    [InlineData("100% & more")]
    [InlineData("a+b=c;d")]
    [InlineData("(x),y*")]
    public async Task Keys_and_filters_with_hostile_characters_match_only_the_exact_value(string value)
    {
        var table = await NewTableAsync();
        await table.AddEntityAsync(new TableEntity(value, value) { ["Tag"] = value });
        await table.AddEntityAsync(new TableEntity("other", "other") { ["Tag"] = value + "x" });
        await table.AddEntityAsync(new TableEntity("other", "other2") { ["Tag"] = "#" + value });

        var byKey = await ToListAsync(table.QueryAsync(TableFilter.Create($"PartitionKey eq {value}")));
        var byProperty = await ToListAsync(table.QueryAsync(TableFilter.Create($"Tag eq {value}")));
        var point = await table.GetEntityAsync(value, value);

        Assert.Equal(value, Assert.Single(byKey).RowKey);
        Assert.Equal(value, Assert.Single(byProperty).PartitionKey);
        Assert.Equal(value, point.Value.GetString("Tag"));
        Assert.Equal(204, (await table.DeleteEntityAsync(value, value, point.Value.ETag)).Status);
    }

    [Fact]
    public async Task Property_values_with_hash_and_injection_never_widen_a_filter()
    {
        var table = await NewTableAsync();
        await table.AddEntityAsync(new TableEntity("p", "1") { ["Tag"] = "a#b?c/d" });
        await table.AddEntityAsync(new TableEntity("p", "2") { ["Tag"] = "other" });

        var exact = await ToListAsync(table.QueryAsync(TableFilter.Create($"Tag eq {"a#b?c/d"}")));
        var injected = await ToListAsync(table.QueryAsync(TableFilter.Create($"Tag eq {"x' or Tag ne 'x"}")));

        Assert.Equal("1", Assert.Single(exact).RowKey);
        Assert.Empty(injected);
    }

    [Fact]
    public async Task Typed_filter_literals_select_by_type()
    {
        var table = await NewTableAsync();
        var id = Guid.NewGuid();
        var when = new DateTimeOffset(2025, 5, 6, 7, 8, 9, TimeSpan.Zero);
        await table.AddEntityAsync(new TableEntity("p", "1") { ["Big"] = 5_000_000_000L, ["Id"] = id, ["When"] = when, ["On"] = true, ["N"] = 7 });
        await table.AddEntityAsync(new TableEntity("p", "2") { ["Big"] = 1L, ["Id"] = Guid.NewGuid(), ["When"] = when.AddDays(-1), ["On"] = false, ["N"] = 1 });

        var filter = TableFilter.Create($"Big gt {4_000_000_000L} and Id eq {id} and When ge {when} and On eq {true} and N eq {7}");
        var matches = await ToListAsync(table.QueryAsync(filter));

        Assert.Equal("1", Assert.Single(matches).RowKey);
    }

    [Fact]
    public void Filter_literals_are_formatted_as_odata()
    {
        var filter = TableFilter.Create(
            $"A eq {"it's"} and B eq {5L} and C eq {true} and D eq {new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.FromHours(1))} and E eq {Guid.Empty} and F eq {new byte[] { 1, 171 }} and G eq {2.0}");

        Assert.Equal(
            "A eq 'it''s' and B eq 5L and C eq true and D eq datetime'2024-01-02T02:04:05.0000000Z' and E eq guid'00000000-0000-0000-0000-000000000000' and F eq X'01ab' and G eq 2.0",
            filter);
    }

    [Fact]
    public async Task Paging_visits_every_entity_exactly_once()
    {
        var table = await NewTableAsync();
        var expected = Enumerable.Range(0, 23).Select(i => $"r{i:D2}").ToList();
        foreach (var rowKey in expected)
        {
            await table.AddEntityAsync(new TableEntity(rowKey[..2], rowKey));
        }

        var pages = 0;
        var seen = new List<string>();
        string? token = null;
        do
        {
            var (items, next) = await table.QueryPageAsync(null, token, maxPerPage: 5);
            Assert.True(items.Count <= 5);
            seen.AddRange(items.Select(e => e.RowKey));
            token = next;
            pages++;
        }
        while (token is not null);

        var streamed = await ToListAsync(table.QueryAsync(maxPerPage: 5));

        Assert.True(pages >= 5);
        Assert.Equal(expected, seen.Order());
        Assert.Equal(expected, streamed.Select(e => e.RowKey).Order());
    }

    [Fact]
    public async Task Query_select_returns_only_named_properties_and_entity_etags()
    {
        var table = await NewTableAsync();
        await table.AddEntityAsync(new TableEntity("p", "r") { ["A"] = 1, ["B"] = 2 });

        var entity = Assert.Single(await ToListAsync(table.QueryAsync(select: ["A"])));

        Assert.Equal(1, entity.GetInt32("A"));
        Assert.False(entity.ContainsKey("B"));
        Assert.NotEqual(default, entity.ETag);
    }

    [Fact]
    public async Task Malformed_continuation_token_is_an_argument_error()
    {
        var table = await NewTableAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => table.QueryPageAsync(null, "!!not base64!!", 5));
    }

    [Fact]
    public async Task Transaction_commits_all_actions_and_returns_etags()
    {
        var table = await NewTableAsync();
        var existing = (await table.AddEntityAsync(new TableEntity("p", "existing") { ["V"] = 1 })).GetETag();
        await table.AddEntityAsync(new TableEntity("p", "doomed"));

        var responses = await table.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.Add, new TableEntity("p", "new") { ["V"] = 1 }),
            new(TableTransactionActionType.UpdateMerge, new TableEntity("p", "existing") { ["V"] = 2 }, existing),
            new(TableTransactionActionType.UpsertReplace, new TableEntity("p", "upserted") { ["V"] = 3 }),
            new(TableTransactionActionType.Delete, new TableEntity("p", "doomed")),
        ]);

        Assert.Equal(4, responses.Count);
        Assert.All(responses, r => Assert.Equal(204, r.Status));
        var updated = (await table.GetEntityAsync("p", "existing")).Value;
        Assert.Equal(2, updated.GetInt32("V"));
        Assert.Equal(updated.ETag, responses[1].GetETag());
        Assert.True((await table.GetEntityIfExistsAsync("p", "new")).HasValue);
        Assert.True((await table.GetEntityIfExistsAsync("p", "upserted")).HasValue);
        Assert.False((await table.GetEntityIfExistsAsync("p", "doomed")).HasValue);
    }

    [Fact]
    public async Task Transaction_with_stale_etag_in_third_action_fails_and_writes_nothing()
    {
        var table = await NewTableAsync();
        var stale = (await table.AddEntityAsync(new TableEntity("p", "c") { ["V"] = 1 })).GetETag();
        await table.UpdateEntityAsync(new TableEntity("p", "c") { ["V"] = 2 }, stale);
        await table.AddEntityAsync(new TableEntity("p", "b") { ["V"] = 1 });

        var ex = await Assert.ThrowsAsync<TableTransactionFailedException>(() => table.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.Add, new TableEntity("p", "a") { ["V"] = 1 }),
            new(TableTransactionActionType.UpdateMerge, new TableEntity("p", "b") { ["V"] = 99 }, ETag.All),
            new(TableTransactionActionType.UpdateReplace, new TableEntity("p", "c") { ["V"] = 99 }, stale),
        ]));

        Assert.Equal(2, ex.FailedTransactionActionIndex);
        Assert.Equal(412, ex.Status);
        Assert.Equal("UpdateConditionNotSatisfied", ex.ErrorCode);
        Assert.False((await table.GetEntityIfExistsAsync("p", "a")).HasValue);
        Assert.Equal(1, (await table.GetEntityAsync("p", "b")).Value.GetInt32("V"));
        Assert.Equal(2, (await table.GetEntityAsync("p", "c")).Value.GetInt32("V"));
    }

    [Fact]
    public async Task Transaction_adding_an_existing_entity_fails_with_409_and_its_index()
    {
        var table = await NewTableAsync();
        await table.AddEntityAsync(new TableEntity("p", "taken"));

        var ex = await Assert.ThrowsAsync<TableTransactionFailedException>(() => table.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.Add, new TableEntity("p", "free")),
            new(TableTransactionActionType.Add, new TableEntity("p", "taken")),
        ]));

        Assert.Equal(1, ex.FailedTransactionActionIndex);
        Assert.Equal(409, ex.Status);
        Assert.Equal("EntityAlreadyExists", ex.ErrorCode);
        Assert.False((await table.GetEntityIfExistsAsync("p", "free")).HasValue);
    }

    [Fact]
    public async Task Transaction_of_100_actions_commits()
    {
        var table = await NewTableAsync();

        var responses = await table.SubmitTransactionAsync(
            Enumerable.Range(0, 100).Select(i => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("p", $"r{i:D3}") { ["I"] = i })));

        Assert.Equal(100, responses.Count);
        Assert.Equal(100, (await ToListAsync(table.QueryAsync(TableFilter.Create($"PartitionKey eq {"p"}")))).Count);
    }

    [Fact]
    public async Task Invalid_transactions_are_rejected_client_side()
    {
        var table = _service.GetTableClient(AzuriteFixture.UniqueName("t"));
        TableTransactionAction Add(string pk, string rk) => new(TableTransactionActionType.Add, new TableEntity(pk, rk));

        await Assert.ThrowsAsync<ArgumentException>(() => table.SubmitTransactionAsync([]));
        await Assert.ThrowsAsync<ArgumentException>(() => table.SubmitTransactionAsync([Add("a", "1"), Add("b", "2")]));
        await Assert.ThrowsAsync<ArgumentException>(() => table.SubmitTransactionAsync([Add("a", "1"), Add("a", "1")]));
        await Assert.ThrowsAsync<ArgumentException>(() => table.SubmitTransactionAsync(Enumerable.Range(0, 101).Select(i => Add("a", i.ToString()))));
        await Assert.ThrowsAsync<ArgumentException>(() => table.SubmitTransactionAsync(
            [new(TableTransactionActionType.UpdateMerge, new TableEntity("a", "1"))]));
    }

    [Fact]
    public void Entity_limits_are_enforced_client_side()
    {
        Assert.Throws<ArgumentException>(() => new TableEntity("p", "r") { ["Bad"] = 1.5f });
        Assert.Throws<ArgumentException>(() => new TableEntity("p", "r") { ["PartitionKey"] = 5 });
        Assert.Throws<ArgumentException>(() => TableEntitySerializer.Serialize(new TableEntity("a/b", "r")));
        Assert.Throws<ArgumentException>(() => TableEntitySerializer.Serialize(new TableEntity("p", "a#b")));
        Assert.Throws<ArgumentException>(() => TableEntitySerializer.Serialize(new TableEntity("p", "tab\there")));
        Assert.Throws<ArgumentException>(() => TableEntitySerializer.Serialize(new TableEntity(new string('k', 1025), "r")));
        Assert.Throws<ArgumentException>(() => TableEntitySerializer.Serialize(new TableEntity("p", "r") { ["S"] = new string('s', 32 * 1024 + 1) }));

        var wide = new TableEntity("p", "r");
        for (var i = 0; i < 253; i++)
        {
            wide[$"P{i}"] = i;
        }

        Assert.Throws<ArgumentException>(() => TableEntitySerializer.Serialize(wide));

        var heavy = new TableEntity("p", "r");
        for (var i = 0; i < 40; i++)
        {
            heavy[$"S{i}"] = new string('x', 30_000);
        }

        Assert.Throws<ArgumentException>(() => TableEntitySerializer.Serialize(heavy));
    }

    [Fact]
    public void Table_names_are_validated()
    {
        Assert.Throws<ArgumentException>(() => _service.GetTableClient("ab"));
        Assert.Throws<ArgumentException>(() => _service.GetTableClient("1abc"));
        Assert.Throws<ArgumentException>(() => _service.GetTableClient("has-dash"));
    }

    private static async Task<List<TableEntity>> ToListAsync(AsyncPageable<TableEntity> pageable)
    {
        var list = new List<TableEntity>();
        await foreach (var entity in pageable)
        {
            list.Add(entity);
        }

        return list;
    }
}
