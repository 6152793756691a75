using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Tests.Infrastructure;

/// <summary>
/// Azurite from the repository's pinned npm package, once per test assembly, on free ports and in memory.
/// Blobs, tables and queues run as separate processes so a queue garbage-collection stall cannot freeze tables;
/// blobs are for the Durable task hub (its partition leases and large messages).
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private static readonly TimeSpan s_startupTimeout = TimeSpan.FromSeconds(30);

    private readonly string _workingDirectory = Directory.CreateTempSubdirectory("azurite-").FullName;
    private readonly List<(Process Process, StringBuilder Stderr)> _processes = [];

    public string ConnectionString { get; private set; } = string.Empty;

    public const string DevelopmentAccountName = "devstoreaccount1";

    // Microsoft's published emulator key; it only ever grants access to a local Azurite.
    public const string DevelopmentAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public TableServiceClient Tables { get; private set; } = null!;

    public QueueServiceClient Queues { get; private set; } = null!;

    public int QueuePort { get; private set; }

    /// <summary>Each service's port, for a <see cref="CountingStorageProxy"/> in front of them.</summary>
    public IReadOnlyDictionary<StorageService, int> Ports { get; private set; } = new Dictionary<StorageService, int>();

    public static string UniqueName(string prefix)
    {
        // Valid for both kinds: tables want letters and digits starting with a letter, queues lower case.
        var name = (prefix + Guid.NewGuid().ToString("N")).ToLowerInvariant();
        if (name.Length > 63)
        {
            name = name[..63];
        }

        if (name.Length < 3 || !char.IsAsciiLetter(name[0]) || !name.All(char.IsAsciiLetterOrDigit))
        {
            throw new ArgumentException($"Prefix '{prefix}' must be ASCII letters and digits starting with a letter.", nameof(prefix));
        }

        return name;
    }

    public async Task InitializeAsync()
    {
        var binDirectory = FindBinDirectory();
        var blobPort = FreePort();
        var tablePort = FreePort();
        var queuePort = FreePort();
        var blob = Start(Path.Combine(binDirectory, "azurite-blob"), $"--blobHost 127.0.0.1 --blobPort {blobPort}");
        var table = Start(Path.Combine(binDirectory, "azurite-table"), $"--tableHost 127.0.0.1 --tablePort {tablePort}");
        var queue = Start(Path.Combine(binDirectory, "azurite-queue"), $"--queueHost 127.0.0.1 --queuePort {queuePort}");
        await Task.WhenAll(
            WaitForPortAsync(blob, blobPort, "azurite-blob"),
            WaitForPortAsync(table, tablePort, "azurite-table"),
            WaitForPortAsync(queue, queuePort, "azurite-queue"));

        ConnectionString =
            $"DefaultEndpointsProtocol=http;AccountName={DevelopmentAccountName};AccountKey={DevelopmentAccountKey};" +
            $"BlobEndpoint=http://127.0.0.1:{blobPort}/{DevelopmentAccountName};" +
            $"TableEndpoint=http://127.0.0.1:{tablePort}/{DevelopmentAccountName};" +
            $"QueueEndpoint=http://127.0.0.1:{queuePort}/{DevelopmentAccountName};";
        QueuePort = queuePort;
        Ports = new Dictionary<StorageService, int> { [StorageService.Blob] = blobPort, [StorageService.Queue] = queuePort, [StorageService.Table] = tablePort };
        Tables = StorageClients.Tables(StorageClients.FromConnectionString(ConnectionString));
        Queues = StorageClients.Queues(StorageClients.FromConnectionString(ConnectionString));
    }

    public Task DisposeAsync()
    {
        foreach (var (process, _) in _processes)
        {
            try
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5_000);
            }
            catch (InvalidOperationException)
            {
                // Already exited.
            }

            process.Dispose();
        }

        try
        {
            Directory.Delete(_workingDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }

        return Task.CompletedTask;
    }

    private static string FindBinDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (!File.Exists(Path.Combine(directory.FullName, "package.json")))
            {
                continue;
            }

            var bin = Path.Combine(directory.FullName, "node_modules", ".bin");
            return new[] { "azurite-blob", "azurite-table", "azurite-queue" }.All(b => File.Exists(Path.Combine(bin, b)))
                ? bin
                : throw new InvalidOperationException($"Azurite is not installed under {directory.FullName}; run `npm ci` there first.");
        }

        throw new InvalidOperationException($"No package.json above {AppContext.BaseDirectory}; cannot locate Azurite (run `npm ci` at the repository root).");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private Process Start(string executable, string arguments)
    {
        var startInfo = new ProcessStartInfo(executable, $"{arguments} --inMemoryPersistence --silent --disableTelemetry")
        {
            WorkingDirectory = _workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = new Process { StartInfo = startInfo };
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        _processes.Add((process, stderr));
        return process;
    }

    private async Task WaitForPortAsync(Process process, int port, string name)
    {
        var deadline = DateTime.UtcNow + s_startupTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                break;
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        var stderr = _processes.Single(p => p.Process == process).Stderr;
        string errors;
        lock (stderr)
        {
            errors = stderr.ToString();
        }

        var state = process.HasExited ? $"exited with code {process.ExitCode}" : $"did not listen on port {port} within {s_startupTimeout.TotalSeconds} s";
        throw new InvalidOperationException($"{name} {state}. stderr:{Environment.NewLine}{errors}");
    }
}

[CollectionDefinition("azurite")]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>;
