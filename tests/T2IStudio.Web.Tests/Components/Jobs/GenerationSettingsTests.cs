using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Preferences;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components.Jobs;

public sealed class GenerationSettingsTests : StudioComponentTestBase
{
    [Fact]
    public void A_model_switch_keeps_remembered_values_only_where_they_fit_the_model_and_the_limits()
    {
        var model = TinyModel();
        var settings = new GenerationSettings();

        settings.UseModel(model, new CreateSettings { Steps = 999, Guidance = double.NaN, BatchSize = 0, Width = 7, Height = model.Traits!.Defaults.Height, Scheduler = SchedulerKind.Ddim });

        Assert.Equal(model.Id, settings.Model);
        Assert.Equal(GenerationLimits.MaxSteps, settings.Steps);
        Assert.Equal(GenerationLimits.MinGuidance, settings.Guidance);
        Assert.Equal(GenerationLimits.MinBatchSize, settings.BatchSize);
        Assert.Equal(model.Traits.Defaults.Width, settings.Width); // 7 px is no size the model offers
        Assert.Equal(model.Traits.Defaults.Height, settings.Height);
        Assert.Equal(SchedulerKind.Ddim, settings.Scheduler);
        Assert.All(settings.Sizes, side => Assert.True(side % model.Traits.VaeScaleFactor == 0 && side <= GenerationLimits.MaxSide));
    }

    [Fact]
    public void Reusing_an_image_fills_its_parameters_locks_its_seed_and_offers_its_size()
    {
        var settings = new GenerationSettings { BatchSize = 4 };
        settings.UseModel(TinyModel());
        var stored = new StoredRequest { Model = "t2istudio-tiny", Prompt = "a red circle", NegativePrompt = "blur", Steps = 12, GuidanceScale = 4.5, Width = 72, Height = 40, Seed = 42, Scheduler = SchedulerKind.Ddim };

        settings.Reuse(stored);

        Assert.Equal(("a red circle", "blur", 12, 4.5, 72, 40, 42UL, true, 1), (settings.Prompt, settings.NegativePrompt, settings.Steps, settings.Guidance, settings.Width, settings.Height, settings.Seed, settings.SeedLocked, settings.BatchSize));
        Assert.Contains(72, settings.Sizes);
        Assert.Contains(40, settings.Sizes);
        settings.NextSeed();
        Assert.Equal(42UL, settings.Seed);
    }

    [Fact]
    public void The_job_and_the_remembered_settings_carry_every_field()
    {
        var galleryId = Guid.NewGuid();
        var settings = new GenerationSettings
        {
            Model = "t2istudio-tiny", Prompt = "p", NegativePrompt = "n", Scheduler = SchedulerKind.Ddim, Steps = 9, Guidance = 3,
            Width = 64, Height = 48, Seed = 7, SeedLocked = true, BatchSize = 2, SaveTo = galleryId,
        };

        var job = settings.ToJob("key");
        var remembered = CreateSettings.FromJson(settings.Remember().ToJson());

        Assert.Equal(("t2istudio-tiny", "key", (Guid?)galleryId), (job.Model, job.IdempotencyKey, job.GalleryId));
        Assert.Equal(("p", "n", SchedulerKind.Ddim, 9, 3.0, 64, 48, 7UL, 2), (job.Request.Prompt, job.Request.NegativePrompt, job.Request.Scheduler, job.Request.Steps, job.Request.GuidanceScale, job.Request.Width, job.Request.Height, job.Request.Seed, job.Request.BatchSize));
        Assert.Equal(settings.Remember(), remembered);
    }

    private ModelInfo TinyModel()
    {
        AddGenerationServices();
        return Services.GetRequiredService<ModelHost>().Catalog.List().Single(m => m.Id == "t2istudio-tiny");
    }
}
