using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Nodes;

/// <summary>Two named nodes on one machine and content root keep their in-process workers apart.</summary>
public sealed class InProcessWorkerIdTests
{
    [Fact]
    public void Named_nodes_get_their_own_id_and_an_unnamed_node_keeps_the_single_node_id()
    {
        var root = Path.GetTempPath();
        Assert.NotEqual(GenerationWorker.InProcessWorkerId(root, "node-a"), GenerationWorker.InProcessWorkerId(root, "node-b"));
        Assert.Equal(GenerationWorker.InProcessWorkerId(root), GenerationWorker.InProcessWorkerId(root, null));
        Assert.Equal(GenerationWorker.InProcessWorkerId(root), GenerationWorker.InProcessWorkerId(root, " "));
        Assert.Equal(GenerationWorker.InProcessWorkerId(root, "node-a"), GenerationWorker.InProcessWorkerId(root, " node-a "));
        Assert.NotEqual(GenerationWorker.InProcessWorkerId(root), GenerationWorker.InProcessWorkerId(root, "node-a"));
    }

    [Fact]
    public async Task Start_up_recovery_on_one_node_leaves_the_job_another_nodes_in_process_worker_runs()
    {
        await using var first = new StudioAppFactory(settings: Node("node-a"));
        var owner = await first.CreateUserAsync("recover@example.test");
        var contentRoot = first.Services.GetRequiredService<IHostEnvironment>().ContentRootPath;
        var jobId = Guid.NewGuid();
        var leaseId = Guid.NewGuid();
        await using (var db = await first.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync())
        {
            // Node b's in-process worker runs it, its lease good for an hour.
            db.Jobs.Add(new Job
            {
                Id = jobId, OwnerId = owner.Id, Status = JobStatus.Running, Model = "t2istudio-tiny", Prompt = "p", RequestJson = "{}",
                BatchSize = 1, TotalSteps = 2, Width = 64, Height = 64, CreatedAt = DateTimeOffset.UtcNow, StartedAt = DateTimeOffset.UtcNow,
                LeaseId = leaseId, LeaseWorkerId = GenerationWorker.InProcessWorkerId(contentRoot, "node-b").ToString("N"),
                WorkerName = "node-b (in process)", LeaseExpiresAt = DateTimeOffset.UtcNow.AddHours(1), Attempts = 1,
            });
            await db.SaveChangesAsync();
        }

        // Node a starts again on the same root: the job is not its own.
        await using (var restartedA = new StudioAppFactory(first.StorageRoot, Node("node-a")))
        {
            var recovery = restartedA.Services.GetRequiredService<QueueRecovery>();
            Assert.Equal(0, recovery.LastReport!.Requeued);
            await using var db = await restartedA.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
            var job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId);
            Assert.Equal(JobStatus.Running, job.Status);
            Assert.Equal(leaseId, job.LeaseId);
        }

        // Node b starting again knows it as its own and runs it once more.
        await using var restartedB = new StudioAppFactory(first.StorageRoot, Node("node-b"));
        Assert.Equal(1, restartedB.Services.GetRequiredService<QueueRecovery>().LastReport!.Requeued);
    }

    private static Dictionary<string, string?> Node(string name) => new() { ["Cluster:NodeName"] = name };
}
