using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Workers;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Tests.Integration;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Tests.Nodes;

/// <summary>Each node sees the workers connected to every node (real Redis).</summary>
public sealed class ClusterWorkersTests
{
    [Fact]
    public async Task A_waiting_job_is_not_failed_for_a_missing_model_on_one_node_while_a_worker_on_the_other_has_it()
    {
        await using var nodes = TwoNodes.Start();
        var owner = await nodes.Node1.CreateUserAsync("far@example.test");
        var farBox = Join(nodes.Node2, "far-box", "far-model");
        var directory1 = nodes.Node1.Services.GetRequiredService<WorkerDirectory>();
        await TwoNodes.UntilAsync(async () => (await directory1.ReadAsync()).Any(w => w.Name == "far-box"), "node 1 sees node 2's worker");
        var jobId = await QueueAsync(nodes.Node1, owner, "far-model");

        // Node 1's own model folders lack far-model; its sweep (and the sweeper's own ticks meanwhile) keeps the job.
        await nodes.Node1.Services.GetRequiredService<JobLifecycle>().SweepAsync();
        Assert.Equal(JobStatus.Queued, (await JobAsync(nodes.Node1, jobId)).Status);

        // Once no node has a worker with it, it fails as before.
        nodes.Node2.Services.GetRequiredService<WorkerRegistry>().Leave(farBox, "test");
        await TwoNodes.UntilAsync(async () => (await JobAsync(nodes.Node1, jobId)).Status == JobStatus.Failed, "the job fails");
        Assert.Equal("There is no model 'far-model'.", (await JobAsync(nodes.Node1, jobId)).Error);
    }

    [Fact]
    public async Task Standings_health_and_the_directory_count_the_workers_and_running_jobs_of_the_other_node()
    {
        await using var nodes = TwoNodes.Start();
        var owner = await nodes.Node1.CreateUserAsync("standing@example.test");
        var lifecycle1 = nodes.Node1.Services.GetRequiredService<JobLifecycle>();
        using var scope = nodes.Node1.Services.CreateScope();
        var submitted = await scope.ServiceProvider.GetRequiredService<GenerationService>()
            .SubmitAsync(StudioAppFactory.PrincipalOf(owner), GenerationQueueTests.Request(prompt: "a far square", steps: 2));
        var jobId = submitted.JobId!.Value;
        // No worker anywhere: the job waits for one.
        Assert.True((await lifecycle1.StandingOfAsync(jobId))!.NoWorker);

        var gpu = Join(nodes.Node2, "gpu-box", "t2istudio-tiny");
        await TwoNodes.UntilAsync(async () => (await lifecycle1.StandingOfAsync(jobId)) is { NoWorker: false }, "node 1 counts node 2's worker");

        // Node 2's worker takes it and reports a step: node 1 shows the step and the worker's name.
        var lifecycle2 = nodes.Node2.Services.GetRequiredService<JobLifecycle>();
        var assignment = await lifecycle2.TryLeaseAsync(gpu, CancellationToken.None);
        Assert.Equal(jobId, assignment!.JobId);
        Assert.True(lifecycle2.ReportProgress(gpu, jobId, assignment.LeaseId, 1, 2, null));
        await TwoNodes.UntilAsync(
            async () => await lifecycle1.StandingOfAsync(jobId) is { IsRunning: true, Step: 1, WorkerName: "gpu-box" },
            "node 1 shows the step of the job node 2 holds");

        // Admin → Workers' data and /health on node 1 list node 2's worker under node 2.
        var worker = Assert.Single(nodes.Node1.Services.GetRequiredService<WorkerDirectory>().All);
        Assert.Equal(("gpu-box", "node-2", jobId, 1), (worker.Name, worker.NodeName, worker.CurrentJobId!.Value, worker.CurrentStep));
        using var client = nodes.Node1.CreateClient();
        using var response = await client.GetAsync(new Uri("/health", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var health = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("node-1", health.RootElement.GetProperty("node").GetString());
        Assert.Equal("Connected", health.RootElement.GetProperty("redis").GetProperty("status").GetString());
        var workers = health.RootElement.GetProperty("workers");
        Assert.Equal(1, workers.GetProperty("connected").GetInt32());
        var perNode = workers.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("node").GetString()!, n => n.GetProperty("connected").GetInt32());
        Assert.Equal(new Dictionary<string, int> { ["node-1"] = 0, ["node-2"] = 1 }, perNode);

        await lifecycle2.ReleaseAsync(gpu, jobId, assignment.LeaseId, CancellationToken.None);
    }

    private static WorkerSession Join(StudioAppFactory node, string name, params string[] models) =>
        node.Services.GetRequiredService<WorkerRegistry>().Join(new WorkerHello(Guid.NewGuid(), name, "cpu", null, models, "test"), WorkerKind.Remote, _ => Task.CompletedTask);

    private static async Task<Guid> QueueAsync(StudioAppFactory node, AppUser owner, string model)
    {
        var id = Guid.NewGuid();
        await using var db = await node.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        db.Jobs.Add(new Job
        {
            Id = id, OwnerId = owner.Id, Status = JobStatus.Queued, Model = model, Prompt = "p", RequestJson = "{}",
            BatchSize = 1, TotalSteps = 2, Width = 64, Height = 64, CreatedAt = DateTimeOffset.UtcNow,
        });
        await db.SaveChangesAsync();
        return id;
    }

    private static async Task<Job> JobAsync(StudioAppFactory node, Guid id)
    {
        await using var db = await node.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        return await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == id);
    }
}
