using System.Collections.Concurrent;

namespace T2IStudio.Web.Realtime;

/// <summary>Someone looking at a gallery right now.</summary>
/// <param name="UserId">Who.</param>
/// <param name="DisplayName">Their name, as avatars show it.</param>
public sealed record PresentPerson(string UserId, string DisplayName);

/// <summary>
/// Who is looking at which gallery, per open page: a page joins when it shows a gallery and leaves (disposes)
/// when it shows another or closes. Everyone who sees the gallery hears of each arrival and departure.
/// </summary>
public sealed class GalleryPresence(StudioNotifier events)
{
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Guid, PresentPerson>> _galleries = new();

    /// <summary>Marks one open page of <paramref name="person"/> as showing <paramref name="galleryId"/>; tells <paramref name="audience"/>.</summary>
    public IDisposable Join(Guid galleryId, PresentPerson person, IReadOnlyList<string> audience)
    {
        ArgumentNullException.ThrowIfNull(person);
        ArgumentNullException.ThrowIfNull(audience);
        var token = Guid.NewGuid();
        _galleries.GetOrAdd(galleryId, _ => new())[token] = person;
        Tell(galleryId, audience);
        return new Visit(() =>
        {
            if (_galleries.TryGetValue(galleryId, out var present))
            {
                present.TryRemove(token, out _);
            }
            Tell(galleryId, audience);
        });
    }

    /// <summary>The people looking at the gallery now, once each, by name.</summary>
    public IReadOnlyList<PresentPerson> Who(Guid galleryId) =>
        _galleries.TryGetValue(galleryId, out var present)
            ? [.. present.Values.DistinctBy(p => p.UserId).OrderBy(p => p.DisplayName, StringComparer.CurrentCultureIgnoreCase)]
            : [];

    private void Tell(Guid galleryId, IReadOnlyList<string> audience)
    {
        foreach (var recipient in audience)
        {
            events.Publish(new PresenceChanged(galleryId, recipient));
        }
    }

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
