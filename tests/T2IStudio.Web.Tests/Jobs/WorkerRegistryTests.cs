using Microsoft.Extensions.Logging.Abstractions;
using T2IStudio.Generation.Workers;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Tests.Jobs;

/// <summary>Who may join under which worker id (<see cref="WorkerRegistry.Join"/>).</summary>
public sealed class WorkerRegistryTests
{
    [Fact]
    public void A_worker_that_reconnects_with_its_key_replaces_its_old_session_and_the_old_ones_leave_changes_nothing()
    {
        var registry = new WorkerRegistry(TimeProvider.System, NullLogger<WorkerRegistry>.Instance);
        var id = Guid.NewGuid();
        var before = registry.Join(Hello(id, "box"), WorkerKind.Remote, _ => Task.CompletedTask, "key-1");

        var after = registry.Join(Hello(id, "box"), WorkerKind.Remote, _ => Task.CompletedTask, "key-1");
        registry.Leave(before, "the old connection closed");

        Assert.Same(after, Assert.Single(registry.Sessions));
    }

    [Fact]
    public void No_one_can_take_the_id_of_the_in_process_worker_or_of_a_worker_that_joined_with_another_key()
    {
        var registry = new WorkerRegistry(TimeProvider.System, NullLogger<WorkerRegistry>.Instance);
        var local = Guid.NewGuid();
        var remote = Guid.NewGuid();
        var inProcess = registry.Join(Hello(local, "this box (in process)"), WorkerKind.InProcess, _ => Task.CompletedTask);
        var honest = registry.Join(Hello(remote, "gpu-1"), WorkerKind.Remote, _ => Task.CompletedTask, "key-1");

        Assert.Throws<InvalidOperationException>(() => registry.Join(Hello(local, "impostor"), WorkerKind.Remote, _ => Task.CompletedTask, "key-2"));
        Assert.Throws<InvalidOperationException>(() => registry.Join(Hello(remote, "impostor"), WorkerKind.Remote, _ => Task.CompletedTask, "key-2"));

        Assert.Equal([inProcess, honest], registry.Sessions.OrderBy(s => s.Kind));
    }

    [Fact]
    public void A_batch_whose_jobs_end_at_once_leaves_the_worker_free()
    {
        // The head and its companions end on different threads; a drop that promotes a companion must never promote
        // one that has just ended, or the worker would look busy for ever and get no more jobs.
        var registry = new WorkerRegistry(TimeProvider.System, NullLogger<WorkerRegistry>.Instance);
        var worker = registry.Join(Hello(Guid.NewGuid(), "gpu-1"), WorkerKind.Remote, _ => Task.CompletedTask, "key-1");
        for (var round = 0; round < 2000; round++)
        {
            var jobs = Enumerable.Range(0, 4).Select(_ => Guid.NewGuid()).ToArray();
            foreach (var job in jobs)
            {
                worker.Hold(job);
            }
            using var start = new Barrier(jobs.Length);
            var endings = jobs.Select(job => new Thread(() =>
            {
                start.SignalAndWait();
                worker.Drop(job);
            })).ToArray();
            Array.ForEach(endings, t => t.Start());
            Array.ForEach(endings, t => t.Join());

            Assert.False(worker.IsBusy, $"round {round}: the worker still holds {string.Join(", ", worker.RunningJobs)}");
        }
    }

    [Fact]
    public void A_companion_leads_when_the_head_ends_first_and_keeps_its_step()
    {
        var registry = new WorkerRegistry(TimeProvider.System, NullLogger<WorkerRegistry>.Instance);
        var worker = registry.Join(Hello(Guid.NewGuid(), "gpu-1"), WorkerKind.Remote, _ => Task.CompletedTask, "key-1");
        var head = Guid.Parse("00000000-0000-0000-0000-000000000009");
        var (first, second) = (Guid.Parse("00000000-0000-0000-0000-000000000001"), Guid.Parse("00000000-0000-0000-0000-000000000002"));
        worker.Hold(head);
        worker.Hold(second);
        worker.Hold(first);
        worker.SetStep(head, 5);
        worker.SetStep(first, 4);
        worker.SetStep(second, 3);

        Assert.Equal([(head, 5), (first, 4), (second, 3)], worker.RunningJobs);
        worker.Drop(head);
        Assert.Equal([(first, 4), (second, 3)], worker.RunningJobs);
        worker.Drop(second);
        worker.Drop(first);
        Assert.Empty(worker.RunningJobs);
        Assert.False(worker.IsBusy);
    }

    private static WorkerHello Hello(Guid id, string name) => new(id, name, "cpu", null, ["t2istudio-tiny"], "test");
}
