using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Workers;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Tests.Integration;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Tests.Postgres;

/// <summary>Two web nodes on one PostgreSQL database lease jobs side by side (<c>FOR UPDATE SKIP LOCKED</c>).</summary>
public sealed class PostgresLeaseTests
{
    private static readonly Dictionary<string, string?> Workerless = new()
    {
        ["Queue:RunWorker"] = "false",
        ["Queue:MaxQueuedPerUser"] = "100",
        ["Workers:LeaseSeconds"] = "3600", // no lease runs out while the test holds it
    };

    [Fact]
    public async Task Batching_workers_on_two_nodes_leasing_heads_and_companions_at_once_take_each_queued_job_exactly_once()
    {
        const int JobsPerPerson = 10;
        await using var first = await PostgresAppFactory.StartAsync(Workerless);
        _ = first.Server;
        await using var second = PostgresAppFactory.OnDatabase(first.ConnectionString, Workerless, first.StorageRoot);
        _ = second.Server;
        var people = await SubmitForThreePeopleAsync(first, second, "batch", JobsPerPerson);
        var leased = new ConcurrentBag<(Guid JobId, Guid LeaseId, string WorkerId)>();

        // Three batching workers per node: each leases a head, gathers up to three companions (room for three images beside it), and joins afresh.
        await LeaseUntilNoneWaitsAsync([first, second], perNode: 3, "batcher", async (lifecycle, worker, _) =>
        {
            if (await lifecycle.TryLeaseAsync(worker, CancellationToken.None) is not { } head)
            {
                return false;
            }
            leased.Add((head.JobId, head.LeaseId, worker.Id));
            foreach (var companion in await lifecycle.JoinBatchAsync(worker, head.JobId, head.LeaseId, new BatchOffer(3), CancellationToken.None))
            {
                leased.Add((companion.JobId, companion.LeaseId, worker.Id));
            }
            return true;
        });

        var total = JobsPerPerson * people.Length;
        Assert.Equal(total, leased.Count);
        Assert.Equal(total, leased.Select(l => l.JobId).Distinct().Count());
        Assert.True(leased.GroupBy(l => l.WorkerId).Max(g => g.Count()) > 1, "no batch formed");
        Assert.True(leased.GroupBy(l => l.WorkerId).Max(g => g.Count()) <= 4);
        await using var check = await first.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var rows = await check.Jobs.AsNoTracking().ToDictionaryAsync(j => j.Id);
        Assert.All(leased, l =>
        {
            Assert.Equal(JobStatus.Running, rows[l.JobId].Status);
            Assert.Equal((l.LeaseId, l.WorkerId), (rows[l.JobId].LeaseId!.Value, rows[l.JobId].LeaseWorkerId));
            Assert.Equal(1, rows[l.JobId].Attempts);
        });
    }

    [Fact]
    public async Task Scripted_workers_on_two_nodes_leasing_at_once_take_each_queued_job_exactly_once()
    {
        const int JobsPerPerson = 12;
        await using var first = await PostgresAppFactory.StartAsync(Workerless);
        _ = first.Server; // migrates before the second node starts
        await using var second = PostgresAppFactory.OnDatabase(first.ConnectionString, Workerless, first.StorageRoot);
        _ = second.Server;
        var people = await SubmitForThreePeopleAsync(first, second, "lease", JobsPerPerson);
        var leased = new ConcurrentBag<(Guid JobId, Guid LeaseId, string Node)>();

        // Four scripted workers per node, each a fresh session per lease (a worker holds one job at a time), until no job waits.
        await LeaseUntilNoneWaitsAsync([first, second], perNode: 4, "worker", async (lifecycle, worker, node) =>
        {
            if (await lifecycle.TryLeaseAsync(worker, CancellationToken.None) is not { } assignment)
            {
                return false;
            }
            leased.Add((assignment.JobId, assignment.LeaseId, $"node{node}"));
            return true;
        });

        var total = JobsPerPerson * people.Length;
        Assert.Equal(total, leased.Count);
        Assert.Equal(total, leased.Select(l => l.JobId).Distinct().Count());
        await using var check = await first.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var rows = await check.Jobs.AsNoTracking().ToDictionaryAsync(j => j.Id);
        Assert.Equal(total, rows.Count);
        Assert.All(leased, l =>
        {
            Assert.Equal(JobStatus.Running, rows[l.JobId].Status);
            Assert.Equal(l.LeaseId, rows[l.JobId].LeaseId);
            Assert.Equal(1, rows[l.JobId].Attempts);
        });
        Assert.Equal(2, leased.Select(l => l.Node).Distinct().Count());
    }

    // perNode workers on each node, each a fresh session per try (a worker joins, leases, and the next try joins
    // afresh), running `leaseOnce` until it leases nothing and no job waits.
    private static Task LeaseUntilNoneWaitsAsync(PostgresAppFactory[] nodes, int perNode, string role, Func<JobLifecycle, WorkerSession, int, Task<bool>> leaseOnce) =>
        Task.WhenAll(nodes.SelectMany((app, node) => Enumerable.Range(0, perNode).Select(_ => Task.Run(async () =>
        {
            var lifecycle = app.Services.GetRequiredService<JobLifecycle>();
            var registry = app.Services.GetRequiredService<WorkerRegistry>();
            var dbFactory = app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
            while (true)
            {
                var worker = registry.Join(new WorkerHello(Guid.NewGuid(), $"node{node}-{role}", "cpu", null, ["t2istudio-tiny"], "test"), WorkerKind.Remote, _ => Task.CompletedTask);
                if (await leaseOnce(lifecycle, worker, node))
                {
                    continue;
                }
                await using var db = await dbFactory.CreateDbContextAsync();
                if (!await db.Jobs.AnyAsync(j => j.Status == JobStatus.Queued))
                {
                    return;
                }
            }
        })))).WaitAsync(TimeSpan.FromMinutes(2));

    // Three people, two on the first node and one on the second, each with `jobsPerPerson` two-step jobs submitted in turn.
    private static async Task<AppUser[]> SubmitForThreePeopleAsync(PostgresAppFactory first, PostgresAppFactory second, string prefix, int jobsPerPerson)
    {
        var people = new[] { await first.CreateUserAsync($"{prefix}-a@example.test"), await first.CreateUserAsync($"{prefix}-b@example.test"), await second.CreateUserAsync($"{prefix}-c@example.test") };
        using var scope = first.Services.CreateScope();
        var generation = scope.ServiceProvider.GetRequiredService<GenerationService>();
        for (var i = 0; i < jobsPerPerson; i++)
        {
            foreach (var person in people)
            {
                Assert.True((await generation.SubmitAsync(StudioAppFactory.PrincipalOf(person), GenerationQueueTests.Request(prompt: $"{prefix} {i}", steps: 2))).Succeeded);
            }
        }
        return people;
    }
}
