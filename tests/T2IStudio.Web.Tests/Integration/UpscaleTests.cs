using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Workers;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Storage;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>
/// The lightbox's Upscale and Create's Hires fix through the queue, on the embedded model with the nearest-neighbour
/// ×4 fixture upscaler in a second model root (so each upscaled pixel is known exactly).
/// </summary>
public sealed class UpscaleTests : IClassFixture<UpscaleTests.OneImage>
{
    private const string Upscaler = "nearest-x4";
    private readonly OneImage _world;

    public UpscaleTests(OneImage world) => _world = world;

    /// <summary>Alice has one 64×64 image; Bob has an account; the app has the fixture upscaler.</summary>
    public sealed class OneImage : IAsyncLifetime
    {
        private readonly string _upscalerRoot = Directory.CreateTempSubdirectory("t2i-upscalers-").FullName;

        public OneImage()
        {
            var folder = Path.Combine(_upscalerRoot, "upscalers", Upscaler);
            Directory.CreateDirectory(folder);
            File.Copy(Path.Combine(RepositoryRoot.Path, "tests", "T2IStudio.Generation.Tests", "Fixtures", "upscaler_nearest_x4.onnx"), Path.Combine(folder, "model.onnx"));
            App = new StudioAppFactory(settings: new Dictionary<string, string?>
            {
                ["Generation:ModelRoots:0"] = Path.Combine(RepositoryRoot.Path, "models"),
                ["Generation:ModelRoots:1"] = _upscalerRoot,
            });
        }

        public StudioAppFactory App { get; }

        public AppUser Alice { get; private set; } = null!;

        public AppUser Bob { get; private set; } = null!;

        public Guid ImageId { get; private set; }

        public async Task InitializeAsync()
        {
            Alice = await App.CreateUserAsync("alice@example.test");
            Bob = await App.CreateUserAsync("bob@example.test");
            ImageId = (await App.GenerateAsync(Alice, GenerationQueueTests.Request(prompt: "a blue square", steps: 6, seed: 9))).ImageIds.Single();
        }

        public Task DisposeAsync()
        {
            App.Dispose();
            Directory.Delete(_upscalerRoot, recursive: true);
            return Task.CompletedTask;
        }
    }

    private static GenerationService Service(IServiceScope scope) => scope.ServiceProvider.GetRequiredService<GenerationService>();

    [Fact]
    public async Task Upscaling_my_image_queues_a_child_job_whose_image_is_the_exact_x4_with_the_parents_parameters()
    {
        using var waiter = new JobWaiter(_world.App.Services, _world.Alice.Id);
        using var scope = _world.App.Services.CreateScope();
        var submitted = await Service(scope).SubmitUpscaleAsync(StudioAppFactory.PrincipalOf(_world.Alice), _world.ImageId, 4);
        Assert.True(submitted.Succeeded, string.Join(" ", submitted.Errors));

        await using var db = await _world.App.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == submitted.JobId);
        Assert.Equal(_world.ImageId, job.ParentImageId);
        Assert.Equal(WorkerModels.ForUpscaler(Upscaler), job.Model);
        Assert.Equal((256, 256, WorkerLoop.UpscaleJobSteps), (job.Width, job.Height, job.TotalSteps));

        var childId = (await waiter.WaitForAsync<JobCompleted>(submitted.JobId!.Value)).ImageIds.Single();
        var parent = await db.Images.AsNoTracking().SingleAsync(i => i.Id == _world.ImageId);
        var child = await db.Images.AsNoTracking().SingleAsync(i => i.Id == childId);
        Assert.Equal(_world.ImageId, child.ParentImageId);
        Assert.Equal((256, 256), (child.Width, child.Height));
        Assert.Equal(parent.Model, child.Model);
        var store = _world.App.Services.GetRequiredService<ImageStore>();
        var before = Decode(await store.ReadAsync(parent.FileKey));
        var after = Decode(await store.ReadAsync(child.FileKey));
        for (var y = 0; y < 256; y++)
        {
            for (var x = 0; x < 256; x++)
            {
                var from = ((y / 4) * 64 + x / 4) * 3;
                var to = (y * 256 + x) * 3;
                Assert.True(before.Pixels.AsSpan(from, 3).SequenceEqual(after.Pixels.AsSpan(to, 3)), $"pixel {x},{y}");
            }
        }
        var parameters = GenerationParameters.Parse(child.Parameters!);
        Assert.Equal("a blue square", parameters.Prompt);
        Assert.Equal("9", parameters["Seed"]);
        Assert.Equal("64x64", parameters["Size"]);
        Assert.Equal(parent.ModelHash, parameters["Model hash"]);
        Assert.Equal("4", parameters["Postprocess upscale by"]);
        Assert.Equal(Upscaler, parameters["Postprocess upscaler"]);
        // Reuse parameters brings back what made the parent.
        var reused = GenerationSettings.FromStored(GenerationMetadata.ReadStoredRequest(child.RequestJson)!);
        Assert.Equal(("a blue square", 64, 64, 9UL), (reused.Prompt, reused.Width, reused.Height, reused.Seed));
    }

    [Fact]
    public async Task An_upscale_records_no_prompt_in_the_requesters_history()
    {
        await using var db = await _world.App.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var before = await db.Prompts.AsNoTracking().Where(p => p.OwnerId == _world.Alice.Id).Select(p => new { p.Id, p.LastUsedAt, p.UseCount }).ToListAsync();
        using var scope = _world.App.Services.CreateScope();

        var submitted = await Service(scope).SubmitUpscaleAsync(StudioAppFactory.PrincipalOf(_world.Alice), _world.ImageId, 2);

        Assert.True(submitted.Succeeded, string.Join(" ", submitted.Errors));
        var job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == submitted.JobId);
        Assert.Null(job.PromptId);
        var after = await db.Prompts.AsNoTracking().Where(p => p.OwnerId == _world.Alice.Id).Select(p => new { p.Id, p.LastUsedAt, p.UseCount }).ToListAsync();
        Assert.Equal(before, after);
    }

    [Fact]
    public void The_upscale_size_check_refuses_a_factor_past_the_pixel_limit_with_the_reason()
    {
        Assert.Null(GenerationService.UpscaleRefusal(2048, 2048, 2));
        Assert.Equal("The image is 2048×2048; ×4 would be over the 16-megapixel limit.", GenerationService.UpscaleRefusal(2048, 2048, 4));
        Assert.Equal("Upscale by 2 or 4, not 3.", GenerationService.UpscaleRefusal(64, 64, 3));
    }

    [Fact]
    public async Task Someone_elses_image_cannot_be_upscaled_and_bad_factors_are_refused()
    {
        using var scope = _world.App.Services.CreateScope();
        var service = Service(scope);
        Assert.Equal(["That image is not available."], (await service.SubmitUpscaleAsync(StudioAppFactory.PrincipalOf(_world.Bob), _world.ImageId, 4)).Errors);
        Assert.Equal(["That image is not available."], (await service.SubmitUpscaleAsync(StudioAppFactory.PrincipalOf(_world.Alice), Guid.NewGuid(), 4)).Errors);
        Assert.Equal(["Upscale by 2 or 4, not 3."], (await service.SubmitUpscaleAsync(StudioAppFactory.PrincipalOf(_world.Alice), _world.ImageId, 3)).Errors);
        Assert.Equal(["There is no upscaler 'nowhere'."], (await service.SubmitUpscaleAsync(StudioAppFactory.PrincipalOf(_world.Alice), _world.ImageId, 2, "nowhere")).Errors);
    }

    [Fact]
    public async Task A_hires_fix_job_delivers_the_larger_image_with_the_first_pass_size_and_A1111s_hires_keys()
    {
        using var waiter = new JobWaiter(_world.App.Services, _world.Alice.Id);
        using var scope = _world.App.Services.CreateScope();
        var job = GenerationQueueTests.Request(prompt: "a red circle", steps: 6, seed: 5) with
        {
            Hires = new HiresOptions { Scale = 4, Strength = 0.5, Upscaler = Upscaler },
        };
        var submitted = await Service(scope).SubmitAsync(StudioAppFactory.PrincipalOf(_world.Alice), job);
        Assert.True(submitted.Succeeded, string.Join(" ", submitted.Errors));

        var imageId = (await waiter.WaitForAsync<JobCompleted>(submitted.JobId!.Value)).ImageIds.Single();
        await using var db = await _world.App.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var row = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == submitted.JobId);
        Assert.Equal((256, 256), (row.Width, row.Height));
        Assert.Equal(6 + 1 + 3, row.TotalSteps); // DDIM: 6 steps, the upscale, 3 steps at strength 0.5
        var image = await db.Images.AsNoTracking().SingleAsync(i => i.Id == imageId);
        Assert.Equal((256, 256), (image.Width, image.Height));
        var parameters = GenerationParameters.Parse(image.Parameters!);
        Assert.Equal("64x64", parameters["Size"]);
        Assert.Equal("0.5", parameters["Denoising strength"]);
        Assert.Equal("4", parameters["Hires upscale"]);
        Assert.Equal(Upscaler, parameters["Hires upscaler"]);
        // Reuse parameters turns the hires fix back on with the same settings.
        var reused = GenerationSettings.FromStored(GenerationMetadata.ReadStoredRequest(image.RequestJson)!);
        Assert.Equal(job.Hires, reused.Hires);
    }

    [Theory]
    [InlineData(5.0, 0.5, Upscaler, "Hires fix: Upscale by must be more than 1 and at most 4.")]
    [InlineData(2.0, 1.5, Upscaler, "Hires fix: Denoising strength must be between 0 and 1.")]
    [InlineData(2.0, 0.5, "nowhere", "Hires fix: there is no upscaler 'nowhere'.")]
    public async Task Bad_hires_options_are_refused_with_a_message(double scale, double strength, string upscaler, string message)
    {
        using var scope = _world.App.Services.CreateScope();
        var job = GenerationQueueTests.Request() with { Hires = new HiresOptions { Scale = scale, Strength = strength, Upscaler = upscaler } };
        var refused = await Service(scope).SubmitAsync(StudioAppFactory.PrincipalOf(_world.Alice), job);
        Assert.False(refused.Succeeded);
        Assert.Contains(message, refused.Errors);
    }

    private static RgbImage Decode(byte[] png)
    {
        using var stream = new MemoryStream(png);
        return PngFiles.Decode(stream);
    }
}
