using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Tests.Realtime;

public sealed class StudioNotifierTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly StudioNotifier _events;

    public StudioNotifierTests() => _events = new StudioNotifier(_time, NullLogger<StudioNotifier>.Instance);

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
    public void Previews_go_out_at_most_four_times_a_second_per_job_and_are_encoded_only_when_sent()
    {
        var received = new List<JobProgress>();
        using var subscription = _events.Subscribe("alice", e => { received.Add((JobProgress)e); return Task.CompletedTask; });
        var job = Guid.NewGuid();
        var other = Guid.NewGuid();
        var encoded = 0;
        byte[] Encode()
        {
            encoded++;
            return [1, 2, 3];
        }

        // 100 steps 10 ms apart: one second of progress.
        for (var step = 1; step <= 100; step++)
        {
            _events.PublishProgress(job, ["alice"], step, 100, Encode);
            _time.Advance(TimeSpan.FromMilliseconds(10));
        }
        _events.PublishProgress(other, ["alice"], 1, 10, Encode);

        var previews = received.Where(p => p.JobId == job && p.PreviewJpeg is not null).ToList();
        Assert.InRange(previews.Count, 1, 4);
        Assert.Equal(previews.Count + 1, encoded); // plus the other job's first preview, which its own throttle lets through
        Assert.Contains(received, p => p.JobId == other && p.PreviewJpeg is not null);
        Assert.Equal(100, received.Where(p => p.JobId == job).Max(p => p.Step)); // the last step always goes out
        Assert.InRange(received.Count(p => p.JobId == job), 5, 15); // about ten a second (plus previews and the last step), not a hundred
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
