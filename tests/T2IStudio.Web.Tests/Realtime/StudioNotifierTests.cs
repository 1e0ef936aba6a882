using Microsoft.Extensions.Logging.Abstractions;
using T2IStudio.Web.Cluster;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Tests.Realtime;

public sealed class StudioNotifierTests
{
    private readonly StudioNotifier _events = new(new LocalClusterBus(new ClusterNode("n", "n"), TimeProvider.System), NullLogger<StudioNotifier>.Instance);

    [Fact]
    public void Events_reach_only_the_jobs_owner_and_stop_once_the_subscription_is_disposed()
    {
        var alice = new List<StudioEvent>();
        var bob = new List<StudioEvent>();
        var aliceSubscription = _events.Subscribe("alice", e => { alice.Add(e); return Task.CompletedTask; });
        using var bobSubscription = _events.Subscribe("bob", e => { bob.Add(e); return Task.CompletedTask; });
        var job = Guid.NewGuid();

        _events.Publish(new JobQueued(job, "alice"));
        aliceSubscription.Dispose();
        _events.Publish(new JobCompleted(job, "alice", []));

        Assert.Equal([new JobQueued(job, "alice")], alice);
        Assert.Empty(bob);
    }

    [Fact]
    public void A_failing_handler_does_not_stop_the_others()
    {
        var delivered = 0;
        using var broken = _events.Subscribe("alice", _ => throw new InvalidOperationException("broken page"));
        using var working = _events.Subscribe("alice", _ => { delivered++; return Task.CompletedTask; });

        _events.Publish(new JobStarted(Guid.NewGuid(), "alice"));

        Assert.Equal(1, delivered);
    }
}
