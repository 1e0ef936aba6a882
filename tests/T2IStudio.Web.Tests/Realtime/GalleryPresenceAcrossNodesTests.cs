using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using T2IStudio.Web.Cluster;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Tests.Realtime;

/// <summary>Presence shared through Redis: another node's visitors count while their node keeps sharing, and drop out when it stops.</summary>
public sealed class GalleryPresenceAcrossNodesTests
{
    [Fact]
    public async Task Another_nodes_visitors_count_while_it_refreshes_and_drop_out_when_its_share_expires()
    {
        var prefix = TestServices.NewRedisPrefix();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var busA = Bus("node-a", prefix, clock);
        await using var busB = Bus("node-b", prefix, clock);
        using var eventsA = new StudioNotifier(busA, NullLogger<StudioNotifier>.Instance);
        using var eventsB = new StudioNotifier(busB, NullLogger<StudioNotifier>.Instance);
        using var presenceA = new GalleryPresence(eventsA, busA, NullLogger<GalleryPresence>.Instance);
        using var presenceB = new GalleryPresence(eventsB, busB, NullLogger<GalleryPresence>.Instance);
        var gallery = Guid.NewGuid();

        using var ana = presenceA.Join(gallery, new PresentPerson("ana", "Ana"), []);
        using var ben = presenceB.Join(gallery, new PresentPerson("ben", "Ben"), []);
        await presenceA.ShareAsync(); // the join shares in the background; this one is awaited (shares are written in order)
        await presenceB.ShareAsync();
        Assert.Equal(["Ana", "Ben"], (await presenceB.WhoAsync(gallery)).Select(p => p.DisplayName));
        Assert.Equal(["Ana"], presenceA.WhoHere(gallery).Select(p => p.DisplayName));

        // Node A refreshes within the lifetime: Ana stays.
        clock.Advance(GalleryPresence.SharedLifetime - TimeSpan.FromSeconds(5));
        await presenceA.ShareAsync();
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(["Ana", "Ben"], (await presenceB.WhoAsync(gallery)).Select(p => p.DisplayName));

        // Node A stops refreshing (it died): once its share expires, only node B's own visitor is left.
        clock.Advance(GalleryPresence.SharedLifetime);
        Assert.Equal(["Ben"], (await presenceB.WhoAsync(gallery)).Select(p => p.DisplayName));
    }

    private static RedisClusterBus Bus(string name, string prefix, TimeProvider time) =>
        new(new ClusterNode(Guid.NewGuid().ToString("N"), name), TestServices.Redis, prefix, time, NullLogger<RedisClusterBus>.Instance);
}
