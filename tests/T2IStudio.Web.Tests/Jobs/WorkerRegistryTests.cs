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

    private static WorkerHello Hello(Guid id, string name) => new(id, name, "cpu", null, ["t2istudio-tiny"], "test");
}
