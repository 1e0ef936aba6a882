using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Generation.Workers;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Workers;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Storage;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>The generation service end to end: the real app, a real SQLite file, the embedded model on the CPU.</summary>
public class GenerationQueueTests
{
    /// <summary>The app under test, as <c>NewApp(storageRoot, settings)</c>; a derived class runs the same tests on another engine.</summary>
    protected virtual StudioAppFactory NewApp(string? storageRoot = null, IDictionary<string, string?>? settings = null) => new(storageRoot, settings);

    private const string Model = "t2istudio-tiny";

    internal static JobRequest Request(string prompt = "a red circle on a blue background", int steps = 8, int size = 64, int batch = 1, ulong seed = 42, string? key = null) => new()
    {
        Model = Model,
        Request = new GenerationRequest { Prompt = prompt, Steps = steps, Width = size, Height = size, BatchSize = batch, Seed = seed, GuidanceScale = 4, Scheduler = SchedulerKind.Ddim },
        IdempotencyKey = key,
    };

    [Fact]
    public async Task A_submitted_job_completes_with_image_rows_whose_files_match_their_sha256_and_carry_the_parameters()
    {
        using var app = NewApp();
        var user = await app.CreateUserAsync("maker@example.test");
        using var waiter = new JobWaiter(app.Services, user.Id);
        using var scope = app.Services.CreateScope();
        var service = scope.ServiceProvider.GetRequiredService<GenerationService>();

        var submitted = await service.SubmitAsync(StudioAppFactory.PrincipalOf(user), Request(batch: 2, seed: 1234));

        Assert.True(submitted.Succeeded, string.Join(" ", submitted.Errors));
        var completed = await waiter.WaitForAsync<JobCompleted>(submitted.JobId!.Value);
        Assert.Equal(2, completed.ImageIds.Count);
        Assert.Contains(waiter.Events, e => e is JobProgress { PreviewJpeg.Length: > 0 } p && p.JobId == completed.JobId);

        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var job = await db.Jobs.Include(j => j.Images).SingleAsync(j => j.Id == submitted.JobId);
        Assert.Equal(JobStatus.Completed, job.Status);
        Assert.Equal(1, job.Attempts);
        Assert.Equal([1234UL, 1235UL], job.Images.OrderBy(i => i.BatchIndex).Select(i => i.Seed));
        var store = app.Services.GetRequiredService<ImageStore>();
        foreach (var image in job.Images)
        {
            var bytes = await File.ReadAllBytesAsync(store.PathOf(image.FileKey));
            Assert.Equal(image.Sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
            Assert.Equal(bytes.Length, image.SizeBytes);
            Assert.True(File.Exists(store.ThumbnailPathOf(image.FileKey)));
            using var stream = new MemoryStream(bytes);
            var text = PngFiles.ReadText(stream);
            Assert.StartsWith("a red circle on a blue background", text.Parameters, StringComparison.Ordinal);
            Assert.Contains($"Seed: {image.Seed}", text.Parameters, StringComparison.Ordinal);
            Assert.Equal(64, image.Width);
        }
        var prompt = await db.Prompts.SingleAsync(p => p.OwnerId == user.Id);
        Assert.Equal(job.PromptId, prompt.Id);
    }

    [Fact]
    public async Task The_same_idempotency_key_submitted_twice_makes_one_job_and_prompts_are_deduplicated()
    {
        using var app = NewApp(settings: new Dictionary<string, string?> { ["Queue:RunWorker"] = "false" });
        var user = await app.CreateUserAsync("clicker@example.test");
        using var scope = app.Services.CreateScope();
        var service = scope.ServiceProvider.GetRequiredService<GenerationService>();
        var principal = StudioAppFactory.PrincipalOf(user);

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => service.SubmitAsync(principal, Request(key: "press-1"))));
        var other = await service.SubmitAsync(principal, Request(key: "press-2"));

        Assert.All(results, r => Assert.True(r.Succeeded));
        Assert.Single(results.Select(r => r.JobId).Distinct());
        Assert.NotEqual(results[0].JobId, other.JobId);
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        Assert.Equal(2, await db.Jobs.CountAsync());
        var prompt = await db.Prompts.SingleAsync();
        Assert.Equal(2, prompt.UseCount);
    }

    [Fact]
    public async Task Invalid_requests_and_a_full_quota_are_refused_with_a_message_and_write_nothing()
    {
        using var app = NewApp(settings: new Dictionary<string, string?> { ["Queue:RunWorker"] = "false", ["Queue:MaxQueuedPerUser"] = "2" });
        var user = await app.CreateUserAsync("limits@example.test");
        using var scope = app.Services.CreateScope();
        var service = scope.ServiceProvider.GetRequiredService<GenerationService>();
        var principal = StudioAppFactory.PrincipalOf(user);

        var badSteps = await service.SubmitAsync(principal, Request(steps: 0));
        var badSize = await service.SubmitAsync(principal, Request(size: 66));
        var longPrompt = await service.SubmitAsync(principal, Request(prompt: new string('a', 2001)));
        var nulPrompt = await service.SubmitAsync(principal, Request(prompt: "a red\0circle"));
        var noModel = await service.SubmitAsync(principal, Request() with { Model = "no-such-model" });
        var badGuidance = await service.SubmitAsync(principal, Request() with { Request = Request().Request with { GuidanceScale = 31 } });
        var bigBatch = await service.SubmitAsync(principal, Request(batch: 9));

        Assert.Contains("Steps must be between 1 and 150.", badSteps.Errors);
        Assert.Contains(badSize.Errors, e => e.StartsWith("Width must be a multiple of", StringComparison.Ordinal));
        Assert.Contains("The prompt must be at most 2000 characters.", longPrompt.Errors);
        Assert.Equal(["Prompts cannot contain the NUL character (U+0000)."], nulPrompt.Errors); // PostgreSQL text cannot hold one
        Assert.Equal(["There is no model 'no-such-model'."], noModel.Errors);
        Assert.Contains("Guidance must be between 0 and 30.", badGuidance.Errors);
        Assert.Contains("Batch size must be between 1 and 8.", bigBatch.Errors);

        Assert.True((await service.SubmitAsync(principal, Request())).Succeeded);
        Assert.True((await service.SubmitAsync(principal, Request())).Succeeded);
        var third = await service.SubmitAsync(principal, Request());
        Assert.False(third.Succeeded);
        Assert.Contains("the most allowed is 2", Assert.Single(third.Errors), StringComparison.Ordinal);

        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        Assert.Equal(2, await db.Jobs.CountAsync());
    }

    [Fact]
    public async Task Cancelling_a_running_job_stops_it_before_the_next_step_and_cancelling_a_queued_job_removes_it()
    {
        using var app = NewApp();
        var user = await app.CreateUserAsync("canceller@example.test");
        using var waiter = new JobWaiter(app.Services, user.Id);
        // Progress is delivered on the worker's own thread: holding it at the first step keeps the job running
        // until the cancel is in, instead of a job made slow enough to outlast it (which a busy machine can stall).
        using var cancelIssued = new ManualResetEventSlim();
        using var holdAtFirstStep = app.Services.GetRequiredService<StudioNotifier>().Subscribe(user.Id, e =>
        {
            if (e is JobProgress)
            {
                cancelIssued.Wait(TimeSpan.FromMinutes(2));
            }
            return Task.CompletedTask;
        });
        using var scope = app.Services.CreateScope();
        var service = scope.ServiceProvider.GetRequiredService<GenerationService>();
        var principal = StudioAppFactory.PrincipalOf(user);

        var running = (await service.SubmitAsync(principal, Request(steps: 150))).JobId!.Value;
        await waiter.WaitForAsync<JobProgress>(running);
        var queued = (await service.SubmitAsync(principal, Request())).JobId!.Value;
        Assert.Equal(0, (await service.StandingOfAsync(queued))?.Position);

        Assert.Equal(CancelOutcome.Canceled, await service.CancelAsync(principal, queued));
        Assert.Equal(CancelOutcome.Stopping, await service.CancelAsync(principal, running));
        cancelIssued.Set();
        await waiter.WaitForAsync<JobCanceled>(running);

        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var jobs = await db.Jobs.Include(j => j.Images).ToDictionaryAsync(j => j.Id);
        Assert.Equal(JobStatus.Canceled, jobs[running].Status);
        Assert.InRange(jobs[running].Step, 1, 149); // stopped part-way, and the row says where
        Assert.Equal(JobStatus.Canceled, jobs[queued].Status);
        Assert.Empty(await db.Images.ToListAsync());
        Assert.Equal(CancelOutcome.AlreadyFinished, await service.CancelAsync(principal, running));
        Assert.Null(await service.StandingOfAsync(queued));
        var progressOfRunning = waiter.Events.OfType<JobProgress>().Where(p => p.JobId == running).Max(p => p.Step);
        Assert.True(progressOfRunning < 150, $"ran to step {progressOfRunning}");
    }

    [Fact]
    public async Task Two_users_take_turns_so_one_users_thousand_jobs_delay_anothers_by_at_most_one()
    {
        using var app = NewApp(settings: new Dictionary<string, string?> { ["Queue:RunWorker"] = "false", ["Queue:MaxQueuedPerUser"] = "2000" });
        var alice = await app.CreateUserAsync("alice@example.test");
        var bob = await app.CreateUserAsync("bob@example.test");
        using var scope = app.Services.CreateScope();
        var service = scope.ServiceProvider.GetRequiredService<GenerationService>();
        var lifecycle = app.Services.GetRequiredService<JobLifecycle>();
        var registry = app.Services.GetRequiredService<WorkerRegistry>();

        var aliceJobs = new List<Guid>();
        for (var i = 0; i < 1000; i++)
        {
            aliceJobs.Add((await service.SubmitAsync(StudioAppFactory.PrincipalOf(alice), Request(seed: (ulong)i))).JobId!.Value);
        }
        var bobJob = (await service.SubmitAsync(StudioAppFactory.PrincipalOf(bob), Request())).JobId!.Value;
        var bobSecond = (await service.SubmitAsync(StudioAppFactory.PrincipalOf(bob), Request())).JobId!.Value;

        Assert.Equal(1, (await service.StandingOfAsync(bobJob))?.Position);
        Assert.Equal(3, (await service.StandingOfAsync(bobSecond))?.Position);
        Assert.Equal(999 + 2, (await service.StandingOfAsync(aliceJobs[^1]))?.Position);
        // Five workers each lease one: the order the database hands jobs out in.
        var order = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            var worker = registry.Join(new WorkerHello(Guid.NewGuid(), $"w{i}", "cpu", null, ["t2istudio-tiny"], "test"), WorkerKind.Remote, _ => Task.CompletedTask);
            order.Add((await lifecycle.TryLeaseAsync(worker, CancellationToken.None))!.JobId);
        }
        Assert.Equal([aliceJobs[0], bobJob, aliceJobs[1], bobSecond, aliceJobs[2]], order);
    }

    [Fact]
    public async Task At_start_a_job_left_running_is_requeued_once_and_one_interrupted_twice_fails_and_orphan_files_go()
    {
        // Both hosts share one storage root that outlives the first (a restart, not a new install).
        using var keeper = NewApp();
        var root = keeper.StorageRoot;
        string userId;
        Guid once, twice, waiting;
        using (var first = NewApp(root, new Dictionary<string, string?> { ["Queue:RunWorker"] = "false" }))
        {
            var user = await first.CreateUserAsync("crash@example.test");
            userId = user.Id;
            using var scope = first.Services.CreateScope();
            var service = scope.ServiceProvider.GetRequiredService<GenerationService>();
            once = (await service.SubmitAsync(StudioAppFactory.PrincipalOf(user), Request(seed: 1))).JobId!.Value;
            twice = (await service.SubmitAsync(StudioAppFactory.PrincipalOf(user), Request(seed: 2))).JobId!.Value;
            waiting = (await service.SubmitAsync(StudioAppFactory.PrincipalOf(user), Request(seed: 3))).JobId!.Value;
            await using var db = await first.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
            // What a crash leaves: rows marked running by a worker that is gone.
            await db.Jobs.Where(j => j.Id == once).ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Running).SetProperty(j => j.Attempts, 1));
            await db.Jobs.Where(j => j.Id == twice).ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Running).SetProperty(j => j.Attempts, 2));
        }
        var orphan = Path.Combine(root, "images", "ab", "ab" + Guid.NewGuid().ToString("N")[2..] + ".png");
        Directory.CreateDirectory(Path.GetDirectoryName(orphan)!);
        await File.WriteAllBytesAsync(orphan, [1, 2, 3]);
        // Left by the crash a while ago: a node that may share its storage root (PostgreSQL, Redis) spares files younger
        // than QueueRecovery.SharedRootGrace, which another node may be writing; an old one goes on either engine.
        File.SetLastWriteTimeUtc(orphan, DateTime.UtcNow - QueueRecovery.SharedRootGrace - TimeSpan.FromMinutes(1));

        using var second = NewApp(root);
        _ = second.Server; // start the host: the worker recovers the queue
        await JobWaiter.WaitForRowsAsync(second.Services, userId, jobs => jobs.All(j => j.IsFinished));

        await using var check = await second.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var jobs = await check.Jobs.ToDictionaryAsync(j => j.Id);
        Assert.Equal(JobStatus.Completed, jobs[once].Status);
        Assert.Equal(2, jobs[once].Attempts);
        Assert.Equal(JobStatus.Failed, jobs[twice].Status);
        Assert.Equal(JobLifecycle.InterruptedError, jobs[twice].Error);
        Assert.Equal(JobStatus.Completed, jobs[waiting].Status);
        Assert.False(File.Exists(orphan));
        var store = second.Services.GetRequiredService<ImageStore>();
        Assert.All(await check.Images.ToListAsync(), i => Assert.True(File.Exists(store.PathOf(i.FileKey))));
    }

    [Fact]
    public async Task A_job_that_fails_is_marked_failed_with_its_reason_and_the_worker_goes_on_to_the_next()
    {
        using var keeper = NewApp();
        Guid broken, healthy;
        string userId;
        using (var first = NewApp(keeper.StorageRoot, new Dictionary<string, string?> { ["Queue:RunWorker"] = "false" }))
        {
            var user = await first.CreateUserAsync("unlucky@example.test");
            userId = user.Id;
            using var scope = first.Services.CreateScope();
            var service = scope.ServiceProvider.GetRequiredService<GenerationService>();
            broken = (await service.SubmitAsync(StudioAppFactory.PrincipalOf(user), Request(seed: 1))).JobId!.Value;
            healthy = (await service.SubmitAsync(StudioAppFactory.PrincipalOf(user), Request(seed: 2))).JobId!.Value;
            // The model the first job asked for is gone by the time a worker reaches it.
            await using var db = await first.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
            var row = await db.Jobs.SingleAsync(j => j.Id == broken);
            row.Model = "retired-model";
            row.RequestJson = row.RequestJson.Replace("t2istudio-tiny", "retired-model", StringComparison.Ordinal);
            await db.SaveChangesAsync();
        }

        using var second = NewApp(keeper.StorageRoot);
        _ = second.Server;
        await JobWaiter.WaitForRowsAsync(second.Services, userId, jobs => jobs.All(j => j.IsFinished));

        await using var check = await second.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var failed = await check.Jobs.SingleAsync(j => j.Id == broken);
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Equal("There is no model 'retired-model'.", failed.Error);
        Assert.Equal(JobStatus.Completed, (await check.Jobs.SingleAsync(j => j.Id == healthy)).Status);
        Assert.Single(await check.Images.Where(i => i.JobId == healthy).ToListAsync());
        Assert.Empty(await check.Images.Where(i => i.JobId == broken).ToListAsync());
    }
}
