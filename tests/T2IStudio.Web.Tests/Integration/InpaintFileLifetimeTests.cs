using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Images;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Storage;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>An inpainting job's source and mask files go with the last image that needs them, and not before.</summary>
public sealed class InpaintFileLifetimeTests : IClassFixture<InpaintFileLifetimeTests.OneImage>
{
    private const int Side = 64;
    private readonly OneImage _world;

    public InpaintFileLifetimeTests(OneImage world) => _world = world;

    /// <summary>Ivy has one 64×64 image to inpaint from.</summary>
    public sealed class OneImage : IAsyncLifetime
    {
        public StudioAppFactory App { get; } = new();

        public AppUser Ivy { get; private set; } = null!;

        public Guid ImageId { get; private set; }

        public async Task InitializeAsync()
        {
            Ivy = await App.CreateUserAsync("ivy@example.test");
            ImageId = (await App.GenerateAsync(Ivy, GenerationQueueTests.Request(prompt: "a green square", steps: 4))).ImageIds.Single();
        }

        public Task DisposeAsync()
        {
            App.Dispose();
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Deleting_the_only_result_deletes_the_jobs_source_and_mask_files_and_clears_the_jobs_keys()
    {
        var (jobId, children, source, mask) = await InpaintAsync(batch: 1);
        Assert.True(File.Exists(Store.PathOf(source)) && File.Exists(Store.PathOf(mask)));

        Assert.True(await DeleteAsync(children.Single()));

        Assert.False(File.Exists(Store.PathOf(source)), "the source outlived its last image");
        Assert.False(File.Exists(Store.PathOf(mask)), "the mask outlived its last image");
        await using var db = await Db().CreateDbContextAsync();
        var job = await db.Jobs.SingleAsync(j => j.Id == jobId);
        Assert.Null(job.SourceFileKey);
        Assert.Null(job.MaskFileKey);
        // The image it started from is untouched.
        var parent = await db.Images.SingleAsync(i => i.Id == _world.ImageId);
        Assert.True(File.Exists(Store.PathOf(parent.FileKey)));
    }

    [Fact]
    public async Task While_another_image_of_the_job_remains_its_source_and_mask_stay()
    {
        var (_, children, source, mask) = await InpaintAsync(batch: 2);

        Assert.True(await DeleteAsync(children[0]));
        Assert.True(File.Exists(Store.PathOf(source)), "the source went while an image still needs it");
        Assert.True(File.Exists(Store.PathOf(mask)), "the mask went while an image still needs it");
        await using (var db = await Db().CreateDbContextAsync())
        {
            Assert.Equal(mask, (await db.Images.SingleAsync(i => i.Id == children[1])).MaskFileKey);
        }

        Assert.True(await DeleteAsync(children[1]));
        Assert.False(File.Exists(Store.PathOf(source)));
        Assert.False(File.Exists(Store.PathOf(mask)));
    }

    [Fact]
    public async Task While_a_gallery_holds_the_result_its_source_and_mask_stay_and_go_when_the_gallery_lets_it_go()
    {
        var (_, children, source, mask) = await InpaintAsync(batch: 1);
        var child = children.Single();
        using var scope = _world.App.Services.CreateScope();
        var galleries = scope.ServiceProvider.GetRequiredService<GalleryService>();
        var ivy = StudioAppFactory.PrincipalOf(_world.Ivy);
        var gallery = await galleries.CreateAsync(ivy, "Keepers " + Guid.NewGuid().ToString("N")[..6], teamId: null);
        Assert.Empty(gallery.Errors);
        Assert.Empty((await galleries.AddAsync(ivy, gallery.Id!.Value, child)).Errors);

        Assert.True(await DeleteAsync(child));
        Assert.True(File.Exists(Store.PathOf(source)), "the source went while a gallery still holds the image");
        Assert.True(File.Exists(Store.PathOf(mask)), "the mask went while a gallery still holds the image");

        Assert.Empty((await galleries.RemoveAsync(ivy, gallery.Id!.Value, child)).Errors);
        Assert.False(File.Exists(Store.PathOf(source)));
        Assert.False(File.Exists(Store.PathOf(mask)));
    }

    [Theory]
    [InlineData(JobStatus.Canceled, true)]
    [InlineData(JobStatus.Failed, true)]
    [InlineData(JobStatus.Queued, false)]
    [InlineData(JobStatus.Running, false)]
    public async Task A_job_without_images_lets_its_files_go_only_once_it_is_finished(JobStatus status, bool released)
    {
        var source = (await Store.WritePngAsync([1, 2, 3])).Key;
        var mask = (await Store.WritePngAsync([4, 5, 6])).Key;
        var jobId = Guid.NewGuid();
        await using (var db = await Db().CreateDbContextAsync())
        {
            db.Jobs.Add(new Job
            {
                Id = jobId, OwnerId = _world.Ivy.Id, Status = status, Model = "t2istudio-tiny", Prompt = "p", RequestJson = "{}",
                BatchSize = 1, TotalSteps = 1, Width = Side, Height = Side, CreatedAt = DateTimeOffset.UtcNow, SourceFileKey = source, MaskFileKey = mask,
            });
            await db.SaveChangesAsync();
        }

        await using (var db = await Db().CreateDbContextAsync())
        {
            await ImageLibrary.ReleaseInpaintFilesAsync(db, Store, jobId, CancellationToken.None);
        }

        Assert.Equal(!released, File.Exists(Store.PathOf(source)));
        Assert.Equal(!released, File.Exists(Store.PathOf(mask)));
        await using var check = await Db().CreateDbContextAsync();
        Assert.Equal(released ? null : source, (await check.Jobs.SingleAsync(j => j.Id == jobId)).SourceFileKey);
    }

    [Fact]
    public async Task Cancelling_a_waiting_inpaint_job_deletes_the_source_and_mask_it_stored()
    {
        using var app = new StudioAppFactory(settings: new Dictionary<string, string?> { ["Queue:RunWorker"] = "false" });
        var nora = await app.CreateUserAsync("nora@example.test");
        var values = new byte[Side * Side];
        Array.Fill(values, (byte)255, 0, 8 * Side);
        using var scope = app.Services.CreateScope();
        var generation = scope.ServiceProvider.GetRequiredService<GenerationService>();
        var principal = StudioAppFactory.PrincipalOf(nora);
        var submitted = await generation.SubmitInpaintAsync(principal, new InpaintJobRequest
        {
            Model = "t2istudio-tiny",
            UploadedSource = new RgbImage(Side, Side, new byte[Side * Side * 3]),
            MaskPng = MaskFiles.Encode(new GrayMask(Side, Side, values)),
            Request = new GenerationRequest { Prompt = "a red band", Steps = 4, Width = Side, Height = Side, GuidanceScale = 4, Scheduler = SchedulerKind.Ddim, Seed = 5, Strength = 0.9 },
        });
        Assert.True(submitted.Succeeded, string.Join(" ", submitted.Errors));
        var store = app.Services.GetRequiredService<ImageStore>();
        Guid source, mask;
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync())
        {
            var job = await db.Jobs.SingleAsync(j => j.Id == submitted.JobId);
            (source, mask) = (job.SourceFileKey!.Value, job.MaskFileKey!.Value);
        }
        Assert.True(File.Exists(store.PathOf(source)) && File.Exists(store.PathOf(mask)));

        Assert.Equal(CancelOutcome.Canceled, await generation.CancelAsync(principal, submitted.JobId!.Value));

        Assert.False(File.Exists(store.PathOf(source)), "a cancelled job's source stayed on disk");
        Assert.False(File.Exists(store.PathOf(mask)), "a cancelled job's mask stayed on disk");
        await using var check = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var row = await check.Jobs.SingleAsync(j => j.Id == submitted.JobId);
        Assert.Equal(JobStatus.Canceled, row.Status);
        Assert.Null(row.SourceFileKey);
        Assert.Null(row.MaskFileKey);
    }

    private ImageStore Store => _world.App.Services.GetRequiredService<ImageStore>();

    private IDbContextFactory<AppDbContext> Db() => _world.App.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();

    private async Task<bool> DeleteAsync(Guid imageId)
    {
        using var scope = _world.App.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<ImageLibrary>().DeleteAsync(StudioAppFactory.PrincipalOf(_world.Ivy), imageId);
    }

    /// <summary>Inpaints a band of Ivy's image; returns the job, its images and the source and mask keys it holds.</summary>
    private async Task<(Guid JobId, IReadOnlyList<Guid> Children, Guid Source, Guid Mask)> InpaintAsync(int batch)
    {
        var values = new byte[Side * Side];
        Array.Fill(values, (byte)255, 28 * Side, 8 * Side);
        using var waiter = new JobWaiter(_world.App.Services, _world.Ivy.Id);
        using var scope = _world.App.Services.CreateScope();
        var submitted = await scope.ServiceProvider.GetRequiredService<GenerationService>().SubmitInpaintAsync(StudioAppFactory.PrincipalOf(_world.Ivy), new InpaintJobRequest
        {
            Model = "t2istudio-tiny",
            SourceImageId = _world.ImageId,
            MaskPng = MaskFiles.Encode(new GrayMask(Side, Side, values)),
            Request = new GenerationRequest { Prompt = "a red band", Steps = 4, Width = Side, Height = Side, BatchSize = batch, GuidanceScale = 4, Scheduler = SchedulerKind.Ddim, Seed = 5, Strength = 0.9 },
        });
        Assert.True(submitted.Succeeded, string.Join(" ", submitted.Errors));
        var children = (await waiter.WaitForAsync<JobCompleted>(submitted.JobId!.Value)).ImageIds;
        await using var db = await Db().CreateDbContextAsync();
        var job = await db.Jobs.SingleAsync(j => j.Id == submitted.JobId);
        return (job.Id, children, job.SourceFileKey!.Value, job.MaskFileKey!.Value);
    }
}
