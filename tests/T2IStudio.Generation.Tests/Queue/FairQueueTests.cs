using T2IStudio.Generation.Queue;

namespace T2IStudio.Generation.Tests.Queue;

public sealed class FairQueueTests
{
    private static Guid Id(int n) => new($"00000000-0000-0000-0000-{n:D12}");

    private static List<Guid> Drain(FairQueue queue)
    {
        var order = new List<Guid>();
        while (queue.TryDequeue(out var job, out _))
        {
            order.Add(job);
        }
        return order;
    }

    [Fact]
    public void Owners_take_turns_and_each_owners_jobs_run_first_in_first_out()
    {
        var queue = new FairQueue();
        queue.Enqueue(Id(1), "a");
        queue.Enqueue(Id(2), "a");
        queue.Enqueue(Id(3), "a");
        queue.Enqueue(Id(4), "b");
        queue.Enqueue(Id(5), "c");
        queue.Enqueue(Id(6), "b");

        Assert.Equal([Id(1), Id(4), Id(5), Id(2), Id(6), Id(3)], queue.Snapshot());
        Assert.Equal([Id(1), Id(4), Id(5), Id(2), Id(6), Id(3)], Drain(queue));
    }

    [Fact]
    public void A_newcomer_waits_for_at_most_one_job_of_an_owner_with_a_thousand()
    {
        var queue = new FairQueue();
        for (var i = 0; i < 1000; i++)
        {
            queue.Enqueue(Id(i), "heavy");
        }
        queue.TryDequeue(out _, out _); // one is running
        queue.Enqueue(Id(5000), "light");

        Assert.Equal(1, queue.PositionOf(Id(5000)));
        queue.TryDequeue(out var next, out var owner);
        Assert.Equal(("heavy", Id(1)), (owner, next));
        queue.TryDequeue(out next, out owner);
        Assert.Equal(("light", Id(5000)), (owner, next));
    }

    [Fact]
    public void Positions_agree_with_the_order_the_queue_hands_jobs_out()
    {
        var queue = new FairQueue();
        var random = new Random(7);
        for (var i = 0; i < 60; i++)
        {
            queue.Enqueue(Id(i), "owner" + random.Next(5));
        }
        queue.Remove(Id(10));
        queue.Remove(Id(33));
        var snapshot = queue.Snapshot();
        for (var k = 0; k < snapshot.Count; k++)
        {
            Assert.Equal(k, queue.PositionOf(snapshot[k]));
        }
        Assert.Equal(snapshot, Drain(queue));
    }

    [Fact]
    public void Removing_a_waiting_job_takes_it_out_and_an_owner_with_none_left_loses_its_turn()
    {
        var queue = new FairQueue();
        queue.Enqueue(Id(1), "a");
        queue.Enqueue(Id(2), "b");
        queue.Enqueue(Id(3), "a");

        Assert.True(queue.Remove(Id(2)));
        Assert.False(queue.Remove(Id(2)));
        Assert.Null(queue.PositionOf(Id(2)));
        Assert.Equal(2, queue.Count);
        Assert.Equal([Id(1), Id(3)], Drain(queue));
        Assert.False(queue.TryDequeue(out _, out _));
    }

    [Fact]
    public void Enqueueing_the_same_job_twice_keeps_one()
    {
        var queue = new FairQueue();
        Assert.True(queue.Enqueue(Id(1), "a"));
        Assert.False(queue.Enqueue(Id(1), "a"));
        Assert.Equal(1, queue.Count);
    }
}
