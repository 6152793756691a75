using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Security;

/// <summary>
/// The hostile-input suite: hundreds of malicious or malformed requests over every operation in the OpenAPI
/// document. Zero 5xx, zero state changes, every answer a problem with a code.
/// </summary>
[Collection("azurite")]
public sealed class HostileInputSuiteTests(AzuriteFixture azurite)
{
    public static readonly string[] HostileIds =
    [
        "'", "\"", "' or PartitionKey ne '", "con_' or 1 eq 1 or '", "ord_00000000000000000000'", "%27%20or%201%20eq%201",
        "..", "../../accounts", new string('k', 3000), "ÄÖÜ\u00e9", "a\u0007b", "key_0000000000000000000\u0001", "{id}", "*",
    ];

    public static readonly string[] MalformedBodies =
    [
        "{", "not json", "[1,2,3]", "\"text\"", "123", "{\"a\":1,}", "{'single':'quotes'}", "{\u0000}",
        new string('[', 2000) + new string(']', 2000),
        "{\"name\":\"" + new string('x', 300_000) + "\"}",
        "{\"lines\":[" + string.Join(',', Enumerable.Repeat("{\"sku\":\"A\",\"quantity\":1}", 12_000)) + "]}",
        "\ufeff{broken",
    ];

    public static readonly string[] HostileQueryValues =
    [
        "' or 1 eq 1", "\u0000", new string('x', 3000), "-1", "${jndi:ldap://127.0.0.1/a}", "<script>alert(1)</script>", "2026-13",
    ];

    /// <summary>Free-text filters: a hostile value is a valid (if odd) search that simply matches nothing.</summary>
    private static readonly HashSet<string> FreeTextQueries = ["sku"];

    /// <summary>Whether the path sent still has as many segments as the operation's template (the label starts "METHOD /template").</summary>
    private static bool SameShape(string sentPath, string label) =>
        sentPath.Trim('/').Split('/').Length == label.Split(' ')[1].Trim('/').Split('/').Length;

    [Fact]
    public async Task Hundreds_of_hostile_requests_get_4xx_problems_and_change_nothing()
    {
        using var app = new TestApp(azurite);
        var world = await HostileWorld.BuildAsync(app);
        var operations = await ApiSurface.ReadAsync(app);
        Assert.True(operations.Count >= 30, $"Only {operations.Count} operations found in the OpenAPI document.");
        var before = await StorageSnapshot.StableAsync(azurite, app.Prefix);

        var requests = new List<(string Label, Func<HttpRequestMessage> Make, bool AllowEmptyOk)>();
        foreach (var op in operations)
        {
            var keys = op.IsAdmin ? [TestApp.AdminKey] : new[] { world.Merchant.ApiKey, world.ThreePl.ApiKey };
            foreach (var key in keys)
            {
                if (op.HasId)
                {
                    foreach (var id in HostileIds)
                    {
                        requests.Add(($"{op} id={Short(id)}", () => Request(op.Method, op.With(id), key, op.HasBody ? "{}" : null), false));
                    }
                }
                if (op.HasBody)
                {
                    foreach (var body in MalformedBodies)
                    {
                        requests.Add(($"{op} body={Short(body)}", () => Request(op.Method, op.With(world.IdFor(op.Path)), key, body), false));
                    }
                }
                foreach (var query in op.QueryParameters)
                {
                    foreach (var value in HostileQueryValues)
                    {
                        requests.Add(($"{op} ?{query}={Short(value)}", () => Request(op.Method, $"{op.With(world.IdFor(op.Path))}?{query}={Uri.EscapeDataString(value)}", key, op.HasBody ? "{}" : null), FreeTextQueries.Contains(query)));
                    }
                }
                requests.Add(($"{op} forged key", () => Request(op.Method, op.With(world.IdFor(op.Path)), "tpl_acc_00000000000000000000.key_00000000000000000000.AAAAAAAAAAAAAAAAAAAAAAAA", op.HasBody ? "{}" : null), false));
            }
            requests.Add(($"{op} no key", () => Request(op.Method, op.With(world.IdFor(op.Path)), null, op.HasBody ? "{}" : null), false));
            requests.Add(($"{op} expired-or-forged impersonation", () => Request(op.Method, op.With(world.IdFor(op.Path)), $"tpi_{world.ConnectionId}.key_00000000000000000000.AAAAAAAAAAAAAAAAAAAAAAAA", op.HasBody ? "{}" : null), false));
        }
        Assert.True(requests.Count >= 300, $"Only {requests.Count} hostile requests.");

        using var client = app.CreateClient();
        var failures = new List<string>();
        foreach (var (label, make, allowEmptyOk) in requests)
        {
            using var response = await client.SendAsync(make());
            var body = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            if (allowEmptyOk && status == 200 && body.Contains("\"items\":[]", StringComparison.Ordinal))
            {
                continue;
            }
            // An id of ".." is a dot-segment: the client removes it with the segment before it, so the request reaches
            // no function at all and the host answers its own bare 404 (there is no catch-all function, README).
            if (status == 404 && body.Length == 0 && !SameShape(response.RequestMessage!.RequestUri!.AbsolutePath, label))
            {
                continue;
            }
            if (status is < 400 or >= 500 || response.Content.Headers.ContentType?.MediaType != "application/problem+json" || !body.Contains("\"code\":", StringComparison.Ordinal))
            {
                failures.Add($"{label} → {status} {body[..Math.Min(200, body.Length)]}");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {requests.Count} hostile requests were not 4xx problems:\n{string.Join('\n', failures.Take(40))}");
        Assert.Equal(before, await StorageSnapshot.TakeAsync(azurite.Tables, app.Prefix));
    }

    /// <summary>Every IPv6 form that embeds an IPv4 address, each spelling naming a private, link-local or loopback one.</summary>
    public static readonly string[] EmbeddedPrivateIPv4 =
    [
        "::ffff:169.254.169.254", "::ffff:a9fe:a9fe", "0:0:0:0:0:ffff:a9fe:a9fe", "0000:0000:0000:0000:0000:FFFF:A9FE:A9FE",
        "::ffff:0:a9fe:a9fe", "::ffff:0:169.254.169.254", "0:0:0:0:ffff:0:a9fe:a9fe", "::ffff:0:7f00:1", "::ffff:10.0.0.1",
        "::169.254.169.254", "::a9fe:a9fe", "::7f00:1", "::10.0.0.1", "::192.168.0.1",
        "64:ff9b::169.254.169.254", "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b:1::a9fe:a9fe",
        "2002:a9fe:a9fe::", "2002:a9fe:a9fe::1", "2002:7f00:1::1", "2002:c0a8:101:1::1", "2002:a00:1:ffff::",
        "2001:0:4136:e378:8000:63bf:f5ff:fffe", "2001::a9fe:a9fe:0:0:0:1", "2001:0:a9fe:a9fe::ffff", "2001:0:808:808:0:0:5601:5656",
    ];

    public static readonly string[] SsrfTargets =
    [
        "http://127.0.0.1/hook", "https://127.0.0.1/hook", "https://localhost/hook", "https://[::1]/hook", "https://[::ffff:127.0.0.1]/hook",
        "https://2130706433/hook", "https://0x7f000001/hook", "https://0177.0.0.1/hook", "https://127.1/hook", "https://0.0.0.0/hook",
        "https://169.254.169.254/latest/meta-data/", "https://[fd00:ec2::254]/", "https://10.0.0.1/hook", "https://172.16.5.4/hook",
        "https://192.168.1.1/hook", "https://100.64.0.1/hook", "https://[fe80::1]/hook", "https://[fc00::1]/hook", "https://224.0.0.1/hook",
        "file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO", "ftp://example.com/x", "https://user:pass@example.com/hook",
        "http://example.com/hook", "javascript:alert(1)", "//example.com/hook", "https://no-such-host.invalid/hook",
        .. EmbeddedPrivateIPv4.Select(a => $"https://[{a}]/hook"),
    ];

    [Fact]
    public async Task Ssrf_webhook_targets_are_refused_everywhere_a_url_is_accepted()
    {
        using var app = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:AllowInsecureWebhooks"] = "false" });
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var id = await Connect.ActiveAsync(app, threePl, merchant);
        var before = await StorageSnapshot.StableAsync(azurite, app.Prefix);
        using var tpl = app.WithKey(threePl.ApiKey);
        var failures = new List<string>();
        foreach (var url in SsrfTargets)
        {
            foreach (var response in new[]
            {
                await tpl.PatchAsync($"/v1/connections/{id}/settings", JsonContent.Create(new { webhookUrl = url })),
                await tpl.PostAsJsonAsync("/v1/webhook-endpoints", new { url }),
            })
            {
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode != HttpStatusCode.BadRequest || !body.Contains("\"code\":\"validation_failed\"", StringComparison.Ordinal))
                {
                    failures.Add($"{url} → {(int)response.StatusCode} {body[..Math.Min(200, body.Length)]}");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
        Assert.Equal(before, await StorageSnapshot.TakeAsync(azurite.Tables, app.Prefix));
    }

    [Fact]
    public async Task Forged_expired_and_reused_link_tokens_get_clear_pages_and_change_nothing()
    {
        using var app = new TestApp(azurite, new Dictionary<string, string?> { ["ThreePL:InvitationTtl"] = "00:00:02" });
        var threePl = await Seed.AccountAsync(app, "threepl");
        var merchant = await Seed.AccountAsync(app, "merchant");
        var used = await Connect.InviteAsync(app, threePl, new { email = merchant.Email });
        var usedToken = (await Mailbox.WaitForAsync(app, merchant.Email)).ConnectToken;
        using (var shop = app.WithKey(merchant.ApiKey))
        {
            await ApiAssert.Json(await shop.PostAsJsonAsync($"/v1/connections/{used}/approve", new { confirm = true }), HttpStatusCode.OK);
        }
        var other = await Seed.AccountAsync(app, "merchant");
        var expired = await Connect.InviteAsync(app, threePl, new { email = other.Email });
        var expiredToken = (await Mailbox.WaitForAsync(app, other.Email)).ConnectToken;
        using (var shop = app.WithKey(other.ApiKey))
        {
            await Eventually.True(async () => (await ApiAssert.Json(await shop.GetAsync($"/v1/connections/{expired}"), HttpStatusCode.OK)).GetProperty("status").GetString() == "expired", "expiry");
        }
        var before = await StorageSnapshot.StableAsync(azurite, app.Prefix);

        var cases = new (string Token, HttpStatusCode Expected)[]
        {
            (usedToken, HttpStatusCode.Gone),
            (expiredToken, HttpStatusCode.Gone),
            (usedToken[..^2] + "xx", HttpStatusCode.NotFound),
            (expired + usedToken[usedToken.IndexOf('.', StringComparison.Ordinal)..], HttpStatusCode.NotFound),
            ("con_00000000000000000000.AAAA", HttpStatusCode.NotFound),
            ("' or 1 eq 1", HttpStatusCode.NotFound),
            (new string('a', 5000), HttpStatusCode.NotFound),
        };
        using var browser = app.CreateClient();
        foreach (var (token, expected) in cases)
        {
            var form = new FormUrlEncodedContent([new("decision", "approve"), new("understood", "on"), new("name", "Mallory")]);
            foreach (var response in new[] { await browser.GetAsync($"/connect/{Uri.EscapeDataString(token)}"), await browser.PostAsync($"/connect/{Uri.EscapeDataString(token)}", form) })
            {
                Assert.Equal(expected, response.StatusCode);
                Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
                Assert.DoesNotContain("tpl_", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }
        Assert.Equal(before, await StorageSnapshot.TakeAsync(azurite.Tables, app.Prefix));
    }

    private static HttpRequestMessage Request(string method, string path, string? key, string? body)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        return request;
    }

    private static string Short(string value) => value.Length <= 30 ? JsonSerializer.Serialize(value) : JsonSerializer.Serialize(value[..30]) + $"…({value.Length})";
}
