using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Hosting;

/// <summary>
/// "A crash must not lose local data": ./run.sh restarts a crashed app without touching Azurite, and a SIGTERM to
/// its whole process group stops Azurite in the way that saves it. Azurite saves every 5 s, so each write here is
/// read back after a stop that follows it within that window; run.sh before this change lost such a write.
/// </summary>
public sealed class LocalDurabilityTests : IDisposable
{
    private const string AdminKey = "dev-admin-key-change-me"; // local.settings.sample.json, which run.sh's app reads
    private static readonly TimeSpan s_azuriteSaveInterval = TimeSpan.FromSeconds(5);

    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("threepl-runsh-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }

    [Fact]
    public async Task A_crashed_app_is_started_again_and_what_it_wrote_is_still_there()
    {
        using var runSh = RunShProcess.Start(_dataDirectory);
        var firstApp = await runSh.WaitForAppAsync();
        var azurite = runSh.AzuriteGroup;
        var (accountId, key) = await CreateAccountAsync(runSh.BaseAddress);

        runSh.KillApp();
        var secondApp = await runSh.WaitForAppAsync(notPid: firstApp);

        Assert.NotEqual(firstApp, secondApp);
        Assert.False(runSh.HasExited);
        Assert.Equal(azurite, runSh.AzuriteGroup);
        Assert.Contains("was killed by SIGKILL", runSh.Output, StringComparison.Ordinal);
        await AssertAccountReadsBackAsync(runSh.BaseAddress, accountId, key, runSh.Output);
        await runSh.TerminateGroupAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Sigterm_to_the_process_group_stops_everything_and_keeps_the_last_writes()
    {
        string accountId, key;
        using (var first = RunShProcess.Start(_dataDirectory))
        {
            await first.WaitForAppAsync();
            (accountId, key) = await CreateAccountAsync(first.BaseAddress);
            var written = Stopwatch.GetTimestamp();
            var signalled = await first.TerminateGroupAsync(TimeSpan.FromSeconds(60));

            // From the acknowledged write to the signal: within Azurite's own save interval, so only a stop that
            // persists can have kept the write.
            var stopAfter = Stopwatch.GetElapsedTime(written, signalled);
            Assert.True(stopAfter < s_azuriteSaveInterval, $"SIGTERM came {stopAfter.TotalSeconds:F1} s after the write: Azurite may have saved it on its own, so this run proves nothing.");
            Assert.Contains("Azurite Table service successfully closed", first.Output, StringComparison.Ordinal);
        }

        // Same data folder; fresh ports, as nothing but the folder carries the data.
        using var second = RunShProcess.Start(_dataDirectory);
        await second.WaitForAppAsync();
        await AssertAccountReadsBackAsync(second.BaseAddress, accountId, key, second.Output);
        await second.TerminateGroupAsync(TimeSpan.FromSeconds(60));
    }

    private static async Task<(string Id, string Key)> CreateAccountAsync(Uri baseAddress)
    {
        using var admin = ApiContract.Client(baseAddress);
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        var email = $"durable-{Guid.NewGuid():N}@example.com";
        var created = await ApiAssert.Json(
            await admin.PostAsJsonAsync("/v1/admin/accounts", new { kind = "merchant", name = "Durable Socks", email }),
            HttpStatusCode.Created);
        return (created.GetProperty("id").GetString()!, created.GetProperty("apiKey").GetString()!);
    }

    private static async Task AssertAccountReadsBackAsync(Uri baseAddress, string accountId, string key, string output)
    {
        using var client = ApiContract.Client(baseAddress);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var response = await client.GetAsync("/v1/account");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET /v1/account answered {(int)response.StatusCode}: {body}{Environment.NewLine}run.sh output:{Environment.NewLine}{output}");
        Assert.Contains(accountId, body, StringComparison.Ordinal);
    }
}
