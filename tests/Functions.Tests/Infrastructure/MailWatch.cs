using System.Collections.Concurrent;

namespace ThreePL.Functions.Tests.Infrastructure;

/// <summary>
/// Counts every send into a pickup folder, also the ones that replace a file of the same name (the sender moves
/// each message into place as <c>{id}.eml</c>, so a duplicate send of one id leaves one file but two moves). Runs in
/// the test process, so it sees the sends of app processes that are killed and started again.
/// </summary>
public sealed class MailWatch : IDisposable
{
    private readonly FileSystemWatcher _watcher;
    private readonly ConcurrentDictionary<string, int> _sends = new(StringComparer.Ordinal);

    public MailWatch(string directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        Directory = directory;
        _watcher = new FileSystemWatcher(directory, "*.eml") { NotifyFilter = NotifyFilters.FileName, InternalBufferSize = 64 * 1024 };
        _watcher.Renamed += (_, e) => _sends.AddOrUpdate(Path.GetFileNameWithoutExtension(e.Name!), 1, (_, n) => n + 1);
        _watcher.Created += (_, e) => _sends.AddOrUpdate(Path.GetFileNameWithoutExtension(e.Name!), 1, (_, n) => n + 1);
        _watcher.EnableRaisingEvents = true;
    }

    public string Directory { get; }

    /// <summary>How often the message with id <paramref name="id"/> was sent.</summary>
    public int Sends(string id) => _sends.GetValueOrDefault(id);

    public IReadOnlyDictionary<string, int> All => new Dictionary<string, int>(_sends);

    public Task WaitForAsync(string id, TimeSpan? timeout = null) =>
        Eventually.True(() => Task.FromResult(Sends(id) > 0), $"e-mail {id}", timeout);

    public ReceivedMail Read(string id) => Mailbox.Read(Path.Combine(Directory, id + ".eml"));

    public void Dispose() => _watcher.Dispose();
}
