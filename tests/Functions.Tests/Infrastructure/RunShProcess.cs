using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace ThreePL.Functions.Tests.Infrastructure;

/// <summary>
/// The repository's <c>./run.sh</c>, as a developer runs it, on free ports and a data folder of the test's choosing.
/// It runs in a session of its own (<c>setsid</c>), so its process id is its process group id and a test can signal
/// the whole group as a terminal or a process manager would. It runs the development host this test assembly was
/// built with (<c>THREEPL_APP_DLL</c>), so it does not build next to the test run. Disposing kills whatever is left
/// of run.sh's group and of Azurite's.
/// </summary>
public sealed partial class RunShProcess : IDisposable
{
    private const int SigKill = 9;
    private const int SigTerm = 15;

    private readonly Process _process;
    private readonly List<string> _output = [];

    private RunShProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The pid of the app run.sh started last ("app pid N" in its output), or null before it has.</summary>
    public int? AppPid => LastMatch(AppPidLine());

    /// <summary>The process group of scripts/azurite.sh and the Azurite services it started.</summary>
    public int? AzuriteGroup => LastMatch(AzuriteGroupLine());

    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join(Environment.NewLine, _output);
            }
        }
    }

    public static RunShProcess Start(string dataDirectory)
    {
        var repoRoot = Repository.Root;
        var appPort = AppProcess.FreePort();
        var start = new ProcessStartInfo("setsid", ["bash", Path.Combine(repoRoot, "run.sh")])
        {
            WorkingDirectory = repoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.Environment["AZURITE_BLOB_PORT"] = AppProcess.FreePort().ToString();
        start.Environment["AZURITE_QUEUE_PORT"] = AppProcess.FreePort().ToString();
        start.Environment["AZURITE_TABLE_PORT"] = AppProcess.FreePort().ToString();
        start.Environment["THREEPL_DATA_DIR"] = dataDirectory;
        start.Environment["THREEPL_APP_DLL"] = Path.Combine(AppContext.BaseDirectory, "ThreePL.LocalHost.dll");
        start.Environment["ThreePL__Urls"] = $"http://127.0.0.1:{appPort}";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start run.sh.");
        var runSh = new RunShProcess(process, new Uri($"http://127.0.0.1:{appPort}"));
        process.OutputDataReceived += (_, e) => runSh.Append(e.Data);
        process.ErrorDataReceived += (_, e) => runSh.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        // setsid(1) makes its own process the group leader once it runs, a moment after Process.Start returns.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (getpgid(process.Id) != process.Id)
        {
            if (DateTime.UtcNow > deadline || process.HasExited)
            {
                runSh.Dispose();
                throw new InvalidOperationException("setsid did not make run.sh a process group leader.");
            }
            Thread.Sleep(10);
        }
        return runSh;
    }

    /// <summary>Waits until an app other than <paramref name="notPid"/> answers /healthz; returns its pid.</summary>
    public async Task<int> WaitForAppAsync(int? notPid = null, TimeSpan? timeout = null)
    {
        using var client = ApiContract.Client(BaseAddress, TimeSpan.FromSeconds(2));
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            if (AppPid is { } pid && pid != notPid)
            {
                try
                {
                    if ((await client.GetAsync("/healthz")).IsSuccessStatusCode)
                    {
                        return pid;
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                }
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"No app answered /healthz (run.sh {(_process.HasExited ? "exited" : "still running")}). Output:{Environment.NewLine}{Output}");
    }

    /// <summary>SIGKILL to the app process alone, as a crash would end it.</summary>
    public void KillApp()
    {
        var pid = AppPid ?? throw new InvalidOperationException("run.sh has not started the app.");
        if (kill(pid, SigKill) != 0)
        {
            throw new InvalidOperationException($"kill -9 {pid} failed (errno {Marshal.GetLastPInvokeError()}).");
        }
    }

    /// <summary>SIGTERM to run.sh's whole process group; waits until run.sh and every Azurite service have exited.</summary>
    /// <returns>When the signal was sent (a <see cref="Stopwatch"/> timestamp).</returns>
    public async Task<long> TerminateGroupAsync(TimeSpan timeout)
    {
        var azurite = AzuriteGroup ?? throw new InvalidOperationException("run.sh has not started Azurite.");
        var signalled = Stopwatch.GetTimestamp();
        if (kill(-_process.Id, SigTerm) != 0)
        {
            throw new InvalidOperationException($"kill -TERM -{_process.Id} failed (errno {Marshal.GetLastPInvokeError()}).");
        }
        var deadline = DateTime.UtcNow + timeout;
        while (!_process.HasExited || GroupIsAlive(-_process.Id) || GroupIsAlive(-azurite))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"run.sh, the app or Azurite still ran {timeout.TotalSeconds} s after SIGTERM to the group. Output:{Environment.NewLine}{Output}");
            }
            await Task.Delay(100);
        }
        return signalled;
    }

    public bool GroupIsAlive(int negativeGroupId) => kill(negativeGroupId, 0) == 0;

    public void Dispose()
    {
        // Whatever is left, also when a test failed half-way: run.sh's group (run.sh, the app) and Azurite's group.
        // (Should run.sh die before it printed Azurite's group, scripts/azurite.sh sees its pipe close and stops Azurite.)
        kill(-_process.Id, SigKill);
        var azurite = AzuriteGroup;
        if (azurite is not null)
        {
            kill(-azurite.Value, SigKill);
        }
        _process.WaitForExit(10_000);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (azurite is not null && GroupIsAlive(-azurite.Value) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50); // until Azurite no longer writes into the data folder the test deletes next
        }
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.Add(line);
        }
    }

    private int? LastMatch(Regex pattern)
    {
        lock (_output)
        {
            for (var i = _output.Count - 1; i >= 0; i--)
            {
                if (pattern.Match(_output[i]) is { Success: true } match)
                {
                    return int.Parse(match.Groups[1].Value);
                }
            }
        }
        return null;
    }

    [GeneratedRegex(@"app pid (\d+)")]
    private static partial Regex AppPidLine();

    [GeneratedRegex(@"Azurite runs as process group (\d+)")]
    private static partial Regex AzuriteGroupLine();

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    [DllImport("libc", SetLastError = true)]
    private static extern int getpgid(int pid);
}
