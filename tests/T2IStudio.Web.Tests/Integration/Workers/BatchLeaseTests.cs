using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Generation.Workers;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Tests.Integration.Workers;

/// <summary>
/// Cross-user batching as the <see cref="JobLifecycle"/> leases it: companions join a worker's head job in fair order,
/// only with the head's batch key and within the worker's room, each under its own lease, and end on their own.
/// </summary>
public sealed class BatchLeaseTests
{
    [Fact]
    public async Task Companions_are_taken_in_fair_order_only_with_the_heads_key_and_within_the_room_offered()
    {
        using var app = WebOnly();
        var (lifecycle, registry) = Services(app);
        var (ann, ben, cat) = (await app.CreateUserAsync("ann@example.test"), await app.CreateUserAsync("ben@example.test"), await app.CreateUserAsync("cat@example.test"));
        var annFirst = await SubmitAsync(app, ann);
        var benFirst = await SubmitAsync(app, ben);
        var catLarger = await SubmitAsync(app, cat, size: 128); // another size: never in this batch
        var annSecond = await SubmitAsync(app, ann);
        var benPair = await SubmitAsync(app, ben, images: 2); // fits the key, not the room left
        var catOtherSteps = await SubmitAsync(app, cat, steps: 9);
        var worker = Join(registry, "batcher");

        var head = (await lifecycle.TryLeaseAsync(worker, CancellationToken.None))!;
        var companions = await lifecycle.JoinBatchAsync(worker, head.JobId, head.LeaseId, new BatchOffer(3), CancellationToken.None);

        Assert.Equal(annFirst, head.JobId);
        Assert.Equal([benFirst, annSecond], companions.Select(c => c.JobId));
        Assert.All(companions, c => Assert.NotEqual(head.LeaseId, c.LeaseId));
        Assert.Equal([annFirst, .. companions.Select(c => c.JobId).Order()], worker.RunningJobs.Select(j => j.JobId));
        await using var db = await Db(app);
        var rows = await db.Jobs.ToDictionaryAsync(j => j.Id);
        foreach (var id in new[] { annFirst, benFirst, annSecond })
        {
            Assert.Equal(JobStatus.Running, rows[id].Status);
            Assert.Equal(worker.Id, rows[id].LeaseWorkerId);
        }
        foreach (var id in new[] { catLarger, benPair, catOtherSteps })
        {
            Assert.Equal(JobStatus.Queued, rows[id].Status);
        }
    }

    [Fact]
    public async Task A_head_not_held_under_that_lease_or_one_that_never_batches_gets_no_companions()
    {
        using var app = WebOnly();
        var (lifecycle, registry) = Services(app);
        var user = await app.CreateUserAsync("solo@example.test");
        var hires = await SubmitAsync(app, user, hires: true);
        await SubmitAsync(app, user, hires: true);
        await SubmitAsync(app, user);
        var worker = Join(registry, "solo");
        var stranger = Join(registry, "stranger");

        var head = (await lifecycle.TryLeaseAsync(worker, CancellationToken.None))!;

        Assert.Equal(hires, head.JobId);
        Assert.Empty(await lifecycle.JoinBatchAsync(worker, head.JobId, head.LeaseId, new BatchOffer(4), CancellationToken.None));
        Assert.Empty(await lifecycle.JoinBatchAsync(stranger, head.JobId, head.LeaseId, new BatchOffer(4), CancellationToken.None));
        Assert.Empty(await lifecycle.JoinBatchAsync(worker, head.JobId, Guid.NewGuid(), new BatchOffer(4), CancellationToken.None));
        Assert.Single(worker.RunningJobs);
    }

    [Fact]
    public async Task Each_job_of_a_batch_ends_on_its_own_a_cancel_stops_only_its_job_and_the_images_go_to_their_owners()
    {
        using var app = WebOnly();
        var (lifecycle, registry) = Services(app);
        var (ann, ben, cat) = (await app.CreateUserAsync("ann@example.test"), await app.CreateUserAsync("ben@example.test"), await app.CreateUserAsync("cat@example.test"));
        using var waiter = new JobWaiter(app.Services, ben.Id);
        var annJob = await SubmitAsync(app, ann);
        var benJob = await SubmitAsync(app, ben);
        var catJob = await SubmitAsync(app, cat);
        var stops = new List<Guid>();
        var worker = registry.Join(new WorkerHello(Guid.NewGuid(), "batcher", "cpu", null, ["t2istudio-tiny"], "test"), WorkerKind.Remote, id =>
        {
            lock (stops)
            {
                stops.Add(id);
            }
            return Task.CompletedTask;
        });
        var head = (await lifecycle.TryLeaseAsync(worker, CancellationToken.None))!;
        var companions = await lifecycle.JoinBatchAsync(worker, head.JobId, head.LeaseId, new BatchOffer(2), CancellationToken.None);
        var ben1 = companions.Single(c => c.JobId == benJob);
        var cat1 = companions.Single(c => c.JobId == catJob);

        Assert.Equal(CancelOutcome.Stopping, await lifecycle.CancelAsync(benJob));
        Assert.Equal([benJob], stops);
        Assert.True(await lifecycle.StoppedAsync(worker, benJob, ben1.LeaseId, 3, CancellationToken.None));
        await waiter.WaitForAsync<JobCanceled>(benJob);
        Assert.True(lifecycle.ReportProgress(worker, catJob, cat1.LeaseId, 5, 8, null));
        Assert.Equal(5, worker.RunningJobs.Single(j => j.JobId == catJob).Step);
        Assert.True((await lifecycle.CompleteAsync(worker, annJob, head.LeaseId, "abc", [Image(200)], CancellationToken.None)).Accepted);
        Assert.True(worker.IsBusy); // cat's job still runs: it leads the worker's jobs now
        Assert.Equal(catJob, worker.CurrentJobId);
        Assert.True((await lifecycle.CompleteAsync(worker, catJob, cat1.LeaseId, "abc", [Image(90)], CancellationToken.None)).Accepted);

        Assert.False(worker.IsBusy);
        await using var db = await Db(app);
        var rows = await db.Jobs.ToDictionaryAsync(j => j.Id);
        Assert.Equal(JobStatus.Completed, rows[annJob].Status);
        Assert.Equal(JobStatus.Canceled, rows[benJob].Status);
        Assert.Equal(JobStatus.Completed, rows[catJob].Status);
        var images = await db.Images.ToListAsync();
        Assert.Equal(2, images.Count);
        Assert.Equal(ann.Id, images.Single(i => i.JobId == annJob).OwnerId);
        Assert.Equal(cat.Id, images.Single(i => i.JobId == catJob).OwnerId);
    }

    [Fact]
    public async Task A_worker_that_leaves_mid_batch_puts_every_job_of_it_back_in_line()
    {
        using var app = WebOnly();
        var (lifecycle, registry) = Services(app);
        var (ann, ben) = (await app.CreateUserAsync("ann@example.test"), await app.CreateUserAsync("ben@example.test"));
        var jobs = new[] { await SubmitAsync(app, ann), await SubmitAsync(app, ben), await SubmitAsync(app, ann) };
        var worker = Join(registry, "leaver");
        var head = (await lifecycle.TryLeaseAsync(worker, CancellationToken.None))!;
        Assert.Equal(2, (await lifecycle.JoinBatchAsync(worker, head.JobId, head.LeaseId, new BatchOffer(4), CancellationToken.None)).Count);

        await lifecycle.WorkerLeftAsync(worker, "it crashed");

        await using var db = await Db(app);
        var rows = await db.Jobs.Where(j => jobs.Contains(j.Id)).ToListAsync();
        Assert.All(rows, r => Assert.Equal(JobStatus.Queued, r.Status));
        Assert.All(rows, r => Assert.Null(r.LeaseId));
    }

    [Fact]
    public async Task A_job_too_big_for_the_room_left_waits_one_batch_only_and_leads_the_next()
    {
        using var app = WebOnly();
        var (lifecycle, registry) = Services(app);
        var ann = await app.CreateUserAsync("ann@example.test");
        var first = await SubmitAsync(app, ann);
        var pair = await SubmitAsync(app, ann, images: 2); // two images: more than the room the first batch has left
        var third = await SubmitAsync(app, ann);
        var fourth = await SubmitAsync(app, ann);
        var (one, two) = (Join(registry, "first"), Join(registry, "second"));

        var head = (await lifecycle.TryLeaseAsync(one, CancellationToken.None))!;
        var companions = await lifecycle.JoinBatchAsync(one, head.JobId, head.LeaseId, new BatchOffer(1), CancellationToken.None);
        var next = (await lifecycle.TryLeaseAsync(two, CancellationToken.None))!;
        var nextCompanions = await lifecycle.JoinBatchAsync(two, next.JobId, next.LeaseId, new BatchOffer(3), CancellationToken.None);

        Assert.Equal(first, head.JobId);
        Assert.Equal([third], companions.Select(c => c.JobId));
        Assert.Equal(pair, next.JobId);
        Assert.Equal([fourth], nextCompanions.Select(c => c.JobId));
    }

    [Fact]
    public async Task A_companion_whose_lease_runs_out_goes_back_in_line_while_the_rest_of_its_batch_runs_on()
    {
        // The app's clock is a test clock: leases run out when the test moves it, and the sweep runs when the test calls it.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var app = new ClockedApp(clock, new Dictionary<string, string?> { ["Queue:RunWorker"] = "false", ["Workers:HeartbeatSeconds"] = "1", ["Workers:LeaseSeconds"] = "3" });
        var (lifecycle, registry) = Services(app);
        var (ann, ben, cat) = (await app.CreateUserAsync("ann@example.test"), await app.CreateUserAsync("ben@example.test"), await app.CreateUserAsync("cat@example.test"));
        var head = await SubmitAsync(app, ann);
        clock.Advance(TimeSpan.FromMilliseconds(1)); // the line orders by submission time, which this clock stamps
        var kept = await SubmitAsync(app, ben);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        var lost = await SubmitAsync(app, cat);
        var worker = Join(registry, "forgetful");
        var assignment = (await lifecycle.TryLeaseAsync(worker, CancellationToken.None))!;
        var companions = (await lifecycle.JoinBatchAsync(worker, assignment.JobId, assignment.LeaseId, new BatchOffer(8), CancellationToken.None)).ToDictionary(c => c.JobId);
        Assert.Equal(head, assignment.JobId);

        // The worker beats for two of its three jobs only: two seconds on, the two beat; two more, the third's 3-s lease
        // has run out and the two others' have a second left.
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.True(await lifecycle.HeartbeatAsync(worker, head, assignment.LeaseId, CancellationToken.None));
        Assert.True(await lifecycle.HeartbeatAsync(worker, kept, companions[kept].LeaseId, CancellationToken.None));
        clock.Advance(TimeSpan.FromSeconds(2));
        await lifecycle.SweepAsync();

        await using var db = await Db(app);
        Assert.Equal(JobStatus.Queued, await db.Jobs.AsNoTracking().Where(j => j.Id == lost).Select(j => j.Status).SingleAsync());
        Assert.Equal([head, kept], worker.RunningJobs.Select(j => j.JobId));
        Assert.False(await lifecycle.HeartbeatAsync(worker, lost, companions[lost].LeaseId, CancellationToken.None));
        Assert.True(await lifecycle.HeartbeatAsync(worker, kept, companions[kept].LeaseId, CancellationToken.None));
        Assert.Equal(2, await db.Jobs.CountAsync(j => j.Status == JobStatus.Running));
    }

    [Fact]
    public async Task A_worker_running_a_batch_is_free_for_the_next_job_when_all_of_its_jobs_are_done()
    {
        using var app = WebOnly();
        var (lifecycle, registry) = Services(app);
        var (ann, ben, cat) = (await app.CreateUserAsync("ann@example.test"), await app.CreateUserAsync("ben@example.test"), await app.CreateUserAsync("cat@example.test"));
        await SubmitAsync(app, ann);
        await SubmitAsync(app, ben);
        var waiting = await SubmitAsync(app, cat, size: 128); // another size: it waits for the batch to end
        var worker = Join(registry, "measured");
        worker.Measured("t2istudio-tiny", 2.0); // seconds per unit of work (megapixel-rows × steps)
        var head = (await lifecycle.TryLeaseAsync(worker, CancellationToken.None))!;
        Assert.Single(await lifecycle.JoinBatchAsync(worker, head.JobId, head.LeaseId, new BatchOffer(3), CancellationToken.None));

        var standing = (await lifecycle.StandingOfAsync(waiting))!;

        // Two running jobs of 8 steps at 64² guided (2 rows × 4096 px = 0.008192 units a step each), then its own 8 steps
        // at 128² (0.032768 a step): 2 s × (2 × 8 × 0.008192 + 8 × 0.032768).
        Assert.Equal(0, standing.Position);
        Assert.Equal(2.0 * (2 * 8 * 0.008192 + 8 * 0.032768), standing.Eta!.Value.TotalSeconds, 3);
        // Each running job ends with its batch.
        Assert.Equal(2.0 * 2 * 8 * 0.008192, (await lifecycle.StandingOfAsync(head.JobId))!.Eta!.Value.TotalSeconds, 3);
    }

    [Fact]
    public async Task Companions_stop_joining_once_their_source_images_fill_the_answer()
    {
        // Workers:MaxImageMegabytes = 1 and sources of about 0.75 MB each (random pixels do not compress): the head and
        // two companions lease (the second one takes the answer past 1 MB), the fourth job waits for the next batch.
        using var app = new StudioAppFactory(settings: new Dictionary<string, string?>
        {
            ["Queue:RunWorker"] = "false",
            ["Workers:MaxImageMegabytes"] = "1",
        });
        var (lifecycle, registry) = Services(app);
        var jobs = new List<Guid>();
        foreach (var name in new[] { "ann", "ben", "cat", "dan" })
        {
            var user = await app.CreateUserAsync($"{name}@example.test");
            using var scope = app.Services.CreateScope();
            var pixels = new byte[512 * 512 * 3];
            new Random(jobs.Count).NextBytes(pixels);
            var result = await scope.ServiceProvider.GetRequiredService<GenerationService>().SubmitImageToImageAsync(StudioAppFactory.PrincipalOf(user), new InpaintJobRequest
            {
                Model = "t2istudio-tiny",
                Request = new GenerationRequest { Prompt = "a noisy start", Steps = 8, Width = 512, Height = 512, Seed = 42, GuidanceScale = 4, Scheduler = SchedulerKind.Ddim, Strength = 0.5 },
                UploadedSource = new RgbImage(512, 512, pixels),
                MaskPng = [],
            });
            Assert.True(result.JobId is not null, string.Join(" ", result.Errors ?? []));
            jobs.Add(result.JobId!.Value);
        }
        var worker = Join(registry, "batcher");

        var head = (await lifecycle.TryLeaseAsync(worker, CancellationToken.None))!;
        var companions = await lifecycle.JoinBatchAsync(worker, head.JobId, head.LeaseId, new BatchOffer(7), CancellationToken.None);

        Assert.Equal(jobs[0], head.JobId);
        Assert.Equal(jobs[1..3], companions.Select(c => c.JobId));
        Assert.All(companions, c => Assert.InRange(c.SourcePng!.Length, 700_000, 900_000));
        await using var db = await Db(app);
        Assert.Equal(JobStatus.Queued, await db.Jobs.Where(j => j.Id == jobs[3]).Select(j => j.Status).SingleAsync());
    }

    // The app with its TimeProvider replaced by the test's clock.
    private sealed class ClockedApp(FakeTimeProvider clock, IDictionary<string, string?> settings) : StudioAppFactory(settings: settings)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(clock));
        }
    }

    private static StudioAppFactory WebOnly() => new(settings: new Dictionary<string, string?>
    {
        ["Queue:RunWorker"] = "false",
        ["Workers:HeartbeatSeconds"] = "1",
        ["Workers:LeaseSeconds"] = "30",
    });

    private static (JobLifecycle, WorkerRegistry) Services(StudioAppFactory app)
    {
        _ = app.Server; // start the host: the lease sweeper runs
        return (app.Services.GetRequiredService<JobLifecycle>(), app.Services.GetRequiredService<WorkerRegistry>());
    }

    private static async Task<Guid> SubmitAsync(StudioAppFactory app, AppUser user, int size = 64, int images = 1, int steps = 8, bool hires = false)
    {
        using var scope = app.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<GenerationService>().SubmitAsync(StudioAppFactory.PrincipalOf(user), new JobRequest
        {
            Model = "t2istudio-tiny",
            Request = new GenerationRequest { Prompt = $"a batch of {user.Email}", Steps = steps, Width = size, Height = size, Seed = 42, BatchSize = images, GuidanceScale = 4, Scheduler = SchedulerKind.Ddim },
            Hires = hires ? new HiresOptions { Scale = 2 } : null,
        });
        Assert.True(result.JobId is not null, string.Join(" ", result.Errors ?? []));
        return result.JobId!.Value;
    }

    private static WorkerSession Join(WorkerRegistry registry, string name) =>
        registry.Join(new WorkerHello(Guid.NewGuid(), name, "cpu", null, ["t2istudio-tiny"], "test"), WorkerKind.Remote, _ => Task.CompletedTask);

    private static DeliveredImage Image(byte value)
    {
        var pixels = new byte[64 * 64 * 3];
        pixels.AsSpan().Fill(value);
        return new DeliveredImage(0, 42, PngFiles.Encode(new RgbImage(64, 64, pixels), null, null));
    }

    private static Task<AppDbContext> Db(StudioAppFactory app) =>
        app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
}
