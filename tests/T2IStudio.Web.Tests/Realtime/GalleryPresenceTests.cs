using Microsoft.Extensions.Logging.Abstractions;
using T2IStudio.Web.Cluster;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Tests.Realtime;

public sealed class GalleryPresenceTests
{
    [Fact]
    public void People_appear_once_while_any_of_their_pages_shows_the_gallery_and_the_audience_hears_each_change()
    {
        var events = new StudioNotifier(new LocalClusterBus(new ClusterNode("n", "n"), TimeProvider.System), NullLogger<StudioNotifier>.Instance);
        var presence = new GalleryPresence(events, new LocalClusterBus(new ClusterNode("n", "n"), TimeProvider.System), NullLogger<GalleryPresence>.Instance);
        var gallery = Guid.NewGuid();
        var heard = new List<StudioEvent>();
        using var listening = events.Subscribe("carol", e => { heard.Add(e); return Task.CompletedTask; });
        string[] audience = ["ana", "ben", "carol"];

        var anaTab1 = presence.Join(gallery, new PresentPerson("ana", "Ana"), audience);
        var anaTab2 = presence.Join(gallery, new PresentPerson("ana", "Ana"), audience);
        var ben = presence.Join(gallery, new PresentPerson("ben", "Ben"), audience);
        Assert.Equal(["Ana", "Ben"], presence.WhoHere(gallery).Select(p => p.DisplayName));

        anaTab1.Dispose();
        Assert.Equal(["Ana", "Ben"], presence.WhoHere(gallery).Select(p => p.DisplayName)); // her other tab is still there
        anaTab2.Dispose();
        anaTab2.Dispose(); // twice is once
        ben.Dispose();

        Assert.Empty(presence.WhoHere(gallery));
        Assert.Equal(6, heard.Count(e => e is PresenceChanged p && p.GalleryId == gallery));
        Assert.Empty(presence.WhoHere(Guid.NewGuid()));
    }
}
