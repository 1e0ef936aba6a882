using T2IStudio.Web.Jobs;

namespace T2IStudio.Web.Tests.Jobs;

/// <summary>The order the database's waiting jobs are handed out in (<see cref="FairOrder.Arrange"/>).</summary>
public sealed class FairOrderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Owners_take_turns_oldest_first_within_each_and_nobody_served_goes_by_their_oldest_job()
    {
        var jobs = new[] { Job("a", 0), Job("a", 1), Job("a", 2), Job("b", 3), Job("c", 4), Job("b", 5) };

        var order = FairOrder.Arrange(jobs, _ => null);

        Assert.Equal(["a@0", "b@3", "c@4", "a@1", "b@5", "a@2"], order.Select(Name));
    }

    [Fact]
    public void Whoever_was_served_last_waits_for_everyone_else_so_a_newcomer_takes_the_last_turn_of_the_round()
    {
        // a and b were served a moment ago (b last); c submitted after a was served, before b.
        var jobs = new[] { Job("a", 0), Job("a", 1), Job("b", 2), Job("c", 11) };
        DateTimeOffset? Served(string owner) => owner switch { "a" => T0.AddSeconds(10), "b" => T0.AddSeconds(12), _ => null };

        var order = FairOrder.Arrange(jobs, Served);

        Assert.Equal(["a@0", "c@11", "b@2", "a@1"], order.Select(Name));
    }

    [Fact]
    public void A_job_whose_worker_was_lost_keeps_its_submit_time_and_runs_first_of_its_owners_line()
    {
        // a's first job went back in line after a newer one of a's was queued; a's newest start was that lost attempt.
        var lost = Job("a", 0);
        var jobs = new[] { Job("a", 5), lost, Job("b", 6) };

        var order = FairOrder.Arrange(jobs, owner => owner == "a" ? T0.AddSeconds(4) : null);

        Assert.Equal(lost, order[0]);
        Assert.Equal(["a@0", "b@6", "a@5"], order.Select(Name));
    }

    [Fact]
    public void One_persons_thousand_jobs_delay_anothers_first_job_by_at_most_one()
    {
        var jobs = Enumerable.Range(0, 1000).Select(i => Job("a", i)).Append(Job("b", 1000)).ToList();

        var order = FairOrder.Arrange(jobs, _ => null);

        Assert.Equal(1, order.ToList().FindIndex(j => j.OwnerId == "b"));
        Assert.Equal(1001, order.Count);
    }

    private static QueuedJob Job(string owner, int second) =>
        new(Guid.NewGuid(), owner, "m", new JobShape("m", 8, 64, 64, 1, true), T0.AddSeconds(second), 0, null);

    private static string Name(QueuedJob job) => $"{job.OwnerId}@{(int)(job.CreatedAt - T0).TotalSeconds}";
}
