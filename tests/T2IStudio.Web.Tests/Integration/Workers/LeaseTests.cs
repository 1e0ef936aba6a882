using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
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
/// Leases as the <see cref="JobLifecycle"/> keeps them, with workers that are only sessions in the registry
/// (the hub and the worker process are tested elsewhere): what a worker may report, what it may deliver,
/// and what happens when it stops beating.
/// </summary>
public sealed class LeaseTests
{
    [Fact]
    public async Task A_worker_can_report_only_on_the_lease_it_holds_and_a_stale_lease_is_refused_after_the_job_moved_on()
    {
        using var app = WebOnly();
        var (lifecycle, registry, user) = await ArrangeAsync(app);
        var job = await SubmitAsync(app, user);
        var holder = Join(registry, "holder");
        var other = Join(registry, "other");

        var assignment = (await lifecycle.TryLeaseAsync(holder, CancellationToken.None))!;

        Assert.Equal(job, assignment.JobId);
        Assert.False(lifecycle.ReportProgress(other, job, assignment.LeaseId, 1, 8, null));
        Assert.False(lifecycle.ReportProgress(holder, job, Guid.NewGuid(), 1, 8, null));
        Assert.False(await lifecycle.HeartbeatAsync(other, job, assignment.LeaseId, CancellationToken.None));
        Assert.False(await lifecycle.FailAsync(other, job, assignment.LeaseId, "sabotage", 1, CancellationToken.None));
        Assert.False((await lifecycle.CompleteAsync(other, job, assignment.LeaseId, "abc", [], CancellationToken.None)).Accepted);
        Assert.True(lifecycle.ReportProgress(holder, job, assignment.LeaseId, 1, 8, null));
        Assert.True(await lifecycle.HeartbeatAsync(holder, job, assignment.LeaseId, CancellationToken.None));
        // The holder hands it back as it stops; its old lease is worth nothing after that.
        Assert.True(await lifecycle.ReleaseAsync(holder, job, assignment.LeaseId, CancellationToken.None));
        Assert.False(await lifecycle.HeartbeatAsync(holder, job, assignment.LeaseId, CancellationToken.None));
        await using var db = await Db(app);
        var row = await db.Jobs.SingleAsync(j => j.Id == job);
        Assert.Equal(JobStatus.Queued, row.Status);
        Assert.Equal(0, row.Attempts); // a release does not count against the job
        Assert.Null(row.LeaseId);
    }

    [Theory]
    [InlineData("count")]
    [InlineData("size")]
    [InlineData("seed")]
    [InlineData("not a png")]
    public async Task Images_that_fail_the_servers_checks_are_not_stored_and_the_job_fails_saying_why(string fault)
    {
        using var app = WebOnly();
        var (lifecycle, registry, user) = await ArrangeAsync(app);
        using var waiter = new JobWaiter(app.Services, user.Id);
        var job = await SubmitAsync(app, user);
        var worker = Join(registry, "liar");
        var assignment = (await lifecycle.TryLeaseAsync(worker, CancellationToken.None))!;
        var good = new RgbImage(64, 64, new byte[64 * 64 * 3]);
        var images = fault switch
        {
            "count" => new[] { Image(0, 42, good), Image(1, 43, good) },
            "size" => [Image(0, 42, new RgbImage(32, 32, new byte[32 * 32 * 3]))],
            "seed" => [Image(0, 7, good)],
            _ => [new DeliveredImage(0, 42, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3, 4, 5, 6])],
        };

        var receipt = await lifecycle.CompleteAsync(worker, job, assignment.LeaseId, "abc123", images, CancellationToken.None);

        Assert.False(receipt.Accepted);
        var failed = await waiter.WaitForAsync<JobFailed>(job);
        Assert.StartsWith("The worker's images failed the server's checks (", failed.Error, StringComparison.Ordinal);
        await using var db = await Db(app);
        Assert.Equal(JobStatus.Failed, (await db.Jobs.SingleAsync(j => j.Id == job)).Status);
        Assert.Empty(await db.Images.ToListAsync());
        Assert.False(Directory.Exists(Path.Combine(app.StorageRoot, "images")) && Directory.EnumerateFiles(Path.Combine(app.StorageRoot, "images"), "*", SearchOption.AllDirectories).Any());
        Assert.False(worker.IsBusy);
    }

    [Fact]
    public async Task A_worker_that_stops_beating_loses_its_lease_the_job_goes_back_in_line_and_a_second_loss_fails_it()
    {
        using var app = WebOnly(leaseSeconds: 3);
        var (lifecycle, registry, user) = await ArrangeAsync(app);
        using var waiter = new JobWaiter(app.Services, user.Id);
        var job = await SubmitAsync(app, user);

        // Two workers in turn take the job and go silent (a hung process, a cut cable: no disconnect is seen).
        Assert.Equal(job, (await lifecycle.TryLeaseAsync(Join(registry, "silent-1"), CancellationToken.None))!.JobId);
        await JobWaiter.WaitForRowsAsync(app.Services, user.Id, rows => rows.Single().Status == JobStatus.Queued);
        var second = (await lifecycle.TryLeaseAsync(Join(registry, "silent-2"), CancellationToken.None))!;
        Assert.Equal(2, second.Attempt);
        var failed = await waiter.WaitForAsync<JobFailed>(job);

        Assert.Equal(JobLifecycle.LostTwiceError, failed.Error);
        await using var db = await Db(app);
        var row = await db.Jobs.SingleAsync(j => j.Id == job);
        Assert.Equal(JobStatus.Failed, row.Status);
        Assert.Equal(2, row.Attempts);
        Assert.Null(row.LeaseId);
    }

    [Fact]
    public async Task A_cancel_asked_before_the_worker_was_lost_ends_the_job_cancelled_instead_of_running_it_again()
    {
        using var app = WebOnly();
        var (lifecycle, registry, user) = await ArrangeAsync(app);
        using var waiter = new JobWaiter(app.Services, user.Id);
        var job = await SubmitAsync(app, user);
        var doomed = Join(registry, "doomed");
        Assert.NotNull(await lifecycle.TryLeaseAsync(doomed, CancellationToken.None));

        Assert.Equal(CancelOutcome.Stopping, await lifecycle.CancelAsync(job));
        await lifecycle.WorkerLeftAsync(doomed, "it crashed before it could stop");

        await waiter.WaitForAsync<JobCanceled>(job);
        Assert.Null(await lifecycle.TryLeaseAsync(Join(registry, "next"), CancellationToken.None));
        await using var db = await Db(app);
        var row = await db.Jobs.SingleAsync(j => j.Id == job);
        Assert.Equal(JobStatus.Canceled, row.Status);
        Assert.Null(row.LeaseId);
    }

    [Fact]
    public async Task A_remote_workers_png_is_stored_as_the_server_encodes_its_checked_pixels_not_as_sent()
    {
        using var app = WebOnly();
        var (lifecycle, registry, user) = await ArrangeAsync(app);
        var job = await SubmitAsync(app, user);
        var worker = Join(registry, "smuggler");
        var assignment = (await lifecycle.TryLeaseAsync(worker, CancellationToken.None))!;
        var pixels = new byte[64 * 64 * 3];
        pixels.AsSpan().Fill(200);
        // A valid PNG with false parameters inside and a payload after IEND.
        var sent = PngFiles.Encode(new RgbImage(64, 64, pixels), "Steps: 1, Seed: 1, Model: not-what-ran", null).Concat("SMUGGLED"u8.ToArray()).ToArray();

        var receipt = await lifecycle.CompleteAsync(worker, job, assignment.LeaseId, "abc123", [new DeliveredImage(0, 42, sent)], CancellationToken.None);

        Assert.True(receipt.Accepted, receipt.Reason);
        await using var db = await Db(app);
        var image = await db.Images.SingleAsync();
        var stored = await File.ReadAllBytesAsync(app.Services.GetRequiredService<T2IStudio.Web.Storage.ImageStore>().PathOf(image.FileKey));
        Assert.NotEqual(sent, stored);
        Assert.False(stored.AsSpan().EndsWith("SMUGGLED"u8));
        using var stream = new MemoryStream(stored);
        var text = PngFiles.ReadText(stream);
        Assert.Equal(image.Parameters, text.Parameters);
        Assert.Contains("Seed: 42", text.Parameters, StringComparison.Ordinal);
        Assert.Contains("Model hash: abc123", text.Parameters, StringComparison.Ordinal);
        using var decoded = new MemoryStream(stored);
        Assert.Equal(pixels, PngFiles.Decode(decoded).Pixels);
    }

    [Fact]
    public async Task A_noisy_2048_image_over_the_upload_limit_is_delivered_by_a_remote_worker_and_stored()
    {
        using var app = WebOnly();
        var (lifecycle, registry, user) = await ArrangeAsync(app);
        var job = await SubmitAsync(app, user, size: 2048);
        var worker = Join(registry, "big-box");
        var assignment = (await lifecycle.TryLeaseAsync(worker, CancellationToken.None))!;
        var pixels = new byte[2048 * 2048 * 3];
        new Random(7).NextBytes(pixels);
        var sent = PngFiles.Encode(new RgbImage(2048, 2048, pixels), null, null);
        Assert.True(sent.Length > ImageLimits.Default.MaxFileBytes, $"the noise compressed to {sent.Length} bytes");

        var receipt = await lifecycle.CompleteAsync(worker, job, assignment.LeaseId, "abc123", [new DeliveredImage(0, 42, sent)], CancellationToken.None);

        Assert.True(receipt.Accepted, receipt.Reason);
        await using var db = await Db(app);
        var image = await db.Images.SingleAsync();
        Assert.Equal((2048, 2048), (image.Width, image.Height));
        await using var stored = File.OpenRead(app.Services.GetRequiredService<T2IStudio.Web.Storage.ImageStore>().PathOf(image.FileKey));
        Assert.Equal(pixels, PngFiles.DecodeStored(stored).Pixels);
    }

    [Fact]
    public void A_worker_may_upload_the_largest_png_the_server_stores()
    {
        Assert.True(new WorkersOptions().MaxImageMegabytes * 1024L * 1024 >= ImageLimits.StoredPng.MaxFileBytes);
        // 16 MP of incompressible RGB fits the stored-PNG limit.
        Assert.True(3 * ImageLimits.StoredPng.MaxPixels < ImageLimits.StoredPng.MaxFileBytes);
    }

    [Fact]
    public async Task A_worker_gets_only_jobs_for_the_models_it_announced()
    {
        using var app = WebOnly();
        var (lifecycle, registry, user) = await ArrangeAsync(app);
        var job = await SubmitAsync(app, user);
        var elsewhere = registry.Join(new WorkerHello(Guid.NewGuid(), "sdxl-box", "cuda:0", null, ["sdxl-base"], "test"), WorkerKind.Remote, _ => Task.CompletedTask);

        Assert.Null(await lifecycle.TryLeaseAsync(elsewhere, CancellationToken.None));
        Assert.True((await lifecycle.StandingOfAsync(job))!.NoWorker);
        Assert.Equal(job, (await lifecycle.TryLeaseAsync(Join(registry, "tiny-box"), CancellationToken.None))!.JobId);
    }

    [Fact]
    public async Task A_hires_job_goes_only_to_a_worker_that_announced_its_upscaler_too()
    {
        using var app = WebOnly();
        var (lifecycle, registry, user) = await ArrangeAsync(app);
        using var scope = app.Services.CreateScope();
        var submitted = await scope.ServiceProvider.GetRequiredService<GenerationService>().SubmitAsync(StudioAppFactory.PrincipalOf(user), new JobRequest
        {
            Model = "t2istudio-tiny",
            Request = new GenerationRequest { Prompt = "a hires lease", Steps = 8, Width = 64, Height = 64, Seed = 42, GuidanceScale = 4, Scheduler = SchedulerKind.Ddim },
            Hires = new HiresOptions { Scale = 2, Strength = 0.5, Upscaler = "t2istudio-tiny-x4" },
        });
        Assert.True(submitted.Succeeded, string.Join(" ", submitted.Errors));
        var withoutUpscaler = Join(registry, "model-only");
        var withUpscaler = registry.Join(new WorkerHello(Guid.NewGuid(), "full-box", "cpu", null, ["t2istudio-tiny", WorkerModels.ForUpscaler("t2istudio-tiny-x4")], "test"),
            WorkerKind.Remote, _ => Task.CompletedTask);

        Assert.Null(await lifecycle.TryLeaseAsync(withoutUpscaler, CancellationToken.None));
        Assert.Equal(submitted.JobId, (await lifecycle.TryLeaseAsync(withUpscaler, CancellationToken.None))!.JobId);
    }

    private static StudioAppFactory WebOnly(int leaseSeconds = 30) => new(settings: new Dictionary<string, string?>
    {
        ["Queue:RunWorker"] = "false",
        ["Workers:HeartbeatSeconds"] = "1",
        ["Workers:LeaseSeconds"] = leaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    private static async Task<(JobLifecycle, WorkerRegistry, AppUser)> ArrangeAsync(StudioAppFactory app)
    {
        _ = app.Server; // start the host: the lease sweeper runs
        var user = await app.CreateUserAsync("leases@example.test");
        return (app.Services.GetRequiredService<JobLifecycle>(), app.Services.GetRequiredService<WorkerRegistry>(), user);
    }

    private static async Task<Guid> SubmitAsync(StudioAppFactory app, AppUser user, int size = 64)
    {
        using var scope = app.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<GenerationService>().SubmitAsync(StudioAppFactory.PrincipalOf(user), new JobRequest
        {
            Model = "t2istudio-tiny",
            Request = new GenerationRequest { Prompt = "a lease", Steps = 8, Width = size, Height = size, Seed = 42, GuidanceScale = 4, Scheduler = SchedulerKind.Ddim },
        });
        return result.JobId!.Value;
    }

    private static WorkerSession Join(WorkerRegistry registry, string name) =>
        registry.Join(new WorkerHello(Guid.NewGuid(), name, "cpu", null, ["t2istudio-tiny"], "test"), WorkerKind.Remote, _ => Task.CompletedTask);

    private static DeliveredImage Image(int index, ulong seed, RgbImage image) => new(index, seed, PngFiles.Encode(image, null, null));

    private static Task<AppDbContext> Db(StudioAppFactory app) =>
        app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
}
