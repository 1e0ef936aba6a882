using System.Collections.Concurrent;
using System.Text.Json;
using T2IStudio.Web.Cluster;

namespace T2IStudio.Web.Realtime;

/// <summary>Someone looking at a gallery right now.</summary>
/// <param name="UserId">Who.</param>
/// <param name="DisplayName">Their name, as avatars show it.</param>
public sealed record PresentPerson(string UserId, string DisplayName);

/// <summary>
/// Who is looking at which gallery, per open page: a page joins when it shows a gallery and leaves (disposes)
/// when it shows another or closes. Everyone who sees the gallery hears of each arrival and departure.
/// With several web nodes, each node shares its own visits (<see cref="ClusterStates.Presence"/>) on every change
/// and every <see cref="RefreshInterval"/>; a node that stops sharing (it died) drops out when its share expires.
/// </summary>
public sealed partial class GalleryPresence(StudioNotifier events, IClusterBus cluster, ILogger<GalleryPresence> logger) : IDisposable
{
    /// <summary>How long a node's shared visits count unless it shares them again.</summary>
    public static readonly TimeSpan SharedLifetime = TimeSpan.FromSeconds(30);

    /// <summary>How often a node shares its visits even when nothing changed, so they do not expire.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(10);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Guid, PresentPerson>> _galleries = new();
    private readonly SemaphoreSlim _sharing = new(1, 1);

    /// <summary>Marks one open page of <paramref name="person"/> as showing <paramref name="galleryId"/>; tells <paramref name="audience"/>.</summary>
    public IDisposable Join(Guid galleryId, PresentPerson person, IReadOnlyList<string> audience)
    {
        ArgumentNullException.ThrowIfNull(person);
        ArgumentNullException.ThrowIfNull(audience);
        var token = Guid.NewGuid();
        _galleries.GetOrAdd(galleryId, _ => new())[token] = person;
        Changed(galleryId, audience);
        return new Visit(() =>
        {
            if (_galleries.TryGetValue(galleryId, out var present))
            {
                present.TryRemove(token, out _);
            }
            Changed(galleryId, audience);
        });
    }

    /// <summary>The people looking at the gallery from this node, once each, by name.</summary>
    public IReadOnlyList<PresentPerson> WhoHere(Guid galleryId) => Ordered(Here(galleryId));

    /// <summary>The people looking at the gallery from any live node, once each, by name.</summary>
    public async Task<IReadOnlyList<PresentPerson>> WhoAsync(Guid galleryId, CancellationToken cancellationToken = default)
    {
        if (cluster.Status.State == ClusterLinkState.Alone)
        {
            return WhoHere(galleryId);
        }
        var people = Here(galleryId).ToList();
        IReadOnlyList<NodeState> states;
        try
        {
            states = await cluster.ReadStatesAsync(ClusterStates.Presence, cancellationToken);
        }
        catch (ClusterUnavailableException)
        {
            return Ordered(people); // Redis stumbled: this node's visitors now, the others' at the next change
        }
        foreach (var state in states)
        {
            // This node's own visits are read from memory above (fresher than its last share).
            if (state.Node.Id != cluster.Node.Id && Read(state) is { } shared && shared.TryGetValue(galleryId, out var there))
            {
                people.AddRange(there);
            }
        }
        return Ordered(people);
    }

    /// <summary>Writes this node's visits for the other nodes (a no-op for a node on its own).</summary>
    public async Task ShareAsync(CancellationToken cancellationToken = default)
    {
        if (cluster.Status.State == ClusterLinkState.Alone)
        {
            return;
        }
        await _sharing.WaitAsync(cancellationToken);
        try
        {
            // Taken inside the lock: shares are written in order, so the last one written is the latest snapshot.
            var snapshot = _galleries
                .Select(g => (g.Key, People: g.Value.Values.DistinctBy(p => p.UserId).ToArray()))
                .Where(g => g.People.Length > 0)
                .ToDictionary(g => g.Key, g => g.People);
            await cluster.ShareStateAsync(ClusterStates.Presence, JsonSerializer.Serialize(snapshot, Json), SharedLifetime, cancellationToken);
        }
        finally
        {
            _sharing.Release();
        }
    }

    /// <summary>Open page visits on this node, all galleries together (each tab counts, not each person).</summary>
    public int VisitCount => _galleries.Values.Sum(present => present.Count);

    /// <inheritdoc />
    public void Dispose() => _sharing.Dispose();

    private IEnumerable<PresentPerson> Here(Guid galleryId) =>
        _galleries.TryGetValue(galleryId, out var present) ? present.Values : [];

    private static IReadOnlyList<PresentPerson> Ordered(IEnumerable<PresentPerson> people) =>
        [.. people.DistinctBy(p => p.UserId).OrderBy(p => p.DisplayName, StringComparer.CurrentCultureIgnoreCase)];

    private Dictionary<Guid, PresentPerson[]>? Read(NodeState state)
    {
        try
        {
            return JsonSerializer.Deserialize<Dictionary<Guid, PresentPerson[]>>(state.Json, Json);
        }
        catch (JsonException ex)
        {
            LogUnreadable(ex, state.Node.Name);
            return null;
        }
    }

    private void Changed(Guid galleryId, IReadOnlyList<string> audience)
    {
        if (cluster.Status.State != ClusterLinkState.Connected)
        {
            // Alone, or Redis is lost: this node's pages hear now, not after a share that would wait out Redis's timeout.
            Tell(galleryId, audience);
            if (cluster.Status.State == ClusterLinkState.Lost)
            {
                _ = ShareQuietlyAsync();
            }
            return;
        }
        _ = ShareThenTellAsync(galleryId, audience);
    }

    private async Task ShareQuietlyAsync()
    {
        try
        {
            await ShareAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException and not ObjectDisposedException)
        {
            LogShareFailed(ex);
        }
        catch (ObjectDisposedException)
        {
            // The app is stopping.
        }
    }

    /// <summary>The other nodes re-read presence when they hear of the change, so the share is written first.</summary>
    private async Task ShareThenTellAsync(Guid galleryId, IReadOnlyList<string> audience)
    {
        try
        {
            await ShareAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException and not ObjectDisposedException)
        {
            LogShareFailed(ex);
        }
        catch (ObjectDisposedException)
        {
            return; // the app is stopping
        }
        Tell(galleryId, audience);
    }

    private void Tell(Guid galleryId, IReadOnlyList<string> audience)
    {
        foreach (var recipient in audience)
        {
            events.Publish(new PresenceChanged(galleryId, recipient));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Gallery presence could not be shared with the other nodes")]
    private partial void LogShareFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The gallery presence shared by node {Node} could not be read")]
    private partial void LogUnreadable(Exception ex, string node);

    private sealed class Visit(Action leave) : IDisposable
    {
        private int _left;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0)
            {
                leave();
            }
        }
    }
}
