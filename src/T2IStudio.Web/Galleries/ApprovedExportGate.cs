using System.Collections.Concurrent;

namespace T2IStudio.Web.Galleries;

/// <summary>
/// How many approved-ZIP exports run at once: one per person and <see cref="ServerWide"/> on the whole server. Each
/// export copies every approved PNG into a temporary file, so without a gate a few people (or one person's repeated
/// clicks) could fill the disk and hold the I/O. A slot is held from the start of building until the download ends.
/// </summary>
public sealed class ApprovedExportGate : IDisposable
{
    /// <summary>Exports running at once on this server.</summary>
    public const int ServerWide = 2;

    private readonly SemaphoreSlim _server = new(ServerWide, ServerWide);
    private readonly ConcurrentDictionary<string, byte> _people = new(StringComparer.Ordinal);

    /// <summary>A slot for <paramref name="userId"/>'s export (dispose it to give it back), or null when that person already has one running or the server is busy.</summary>
    public IDisposable? TryEnter(string userId)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        if (!_people.TryAdd(userId, 0))
        {
            return null;
        }
        if (!_server.Wait(0))
        {
            _people.TryRemove(userId, out _);
            return null;
        }
        return new Slot(this, userId);
    }

    /// <inheritdoc />
    public void Dispose() => _server.Dispose();

    private sealed class Slot(ApprovedExportGate gate, string userId) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            // The response disposes it, and so may an error path: give the slot back only once.
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate._server.Release();
                gate._people.TryRemove(userId, out _);
            }
        }
    }
}
