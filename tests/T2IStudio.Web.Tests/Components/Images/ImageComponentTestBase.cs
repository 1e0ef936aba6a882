using System.Security.Claims;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components.Images;

/// <summary>The lightbox's parts with the app's services, a signed-in person and image rows of their own.</summary>
public abstract class ImageComponentTestBase : StudioComponentTestBase
{
    /// <summary>When the test images were made (a fixed moment: nothing here depends on the clock).</summary>
    protected static readonly DateTimeOffset MadeAt = new(2026, 3, 14, 9, 30, 0, TimeSpan.Zero);

    /// <summary>Adds a finished job with one image of <paramref name="ownerId"/>'s and its stored request; returns the image row.</summary>
    protected async Task<GeneratedImage> AddImageAsync(string ownerId, string prompt, Guid? parentId = null, double? strength = null, string negativePrompt = "")
    {
        var stored = new StoredRequest
        {
            Model = "t2istudio-tiny", Prompt = prompt, NegativePrompt = negativePrompt, Steps = 12, GuidanceScale = 6.5, Width = 64, Height = 48,
            Seed = 4242, Scheduler = SchedulerKind.DpmPlusPlus2M, Strength = strength,
        };
        var job = new Job
        {
            Id = Guid.NewGuid(), OwnerId = ownerId, Status = JobStatus.Completed, Model = stored.Model, Prompt = prompt,
            RequestJson = GenerationMetadata.ToJson(stored), BatchSize = 1, TotalSteps = stored.Steps, Step = stored.Steps,
            Width = stored.Width, Height = stored.Height, CreatedAt = MadeAt, FinishedAt = MadeAt,
        };
        var image = new GeneratedImage
        {
            Id = Guid.NewGuid(), OwnerId = ownerId, JobId = job.Id, Seed = stored.Seed, Model = stored.Model, ModelHash = "abcdef0123",
            Prompt = prompt, NegativePrompt = negativePrompt, Width = stored.Width, Height = stored.Height,
            RequestJson = GenerationMetadata.ToJson(stored), FileKey = Guid.NewGuid(), Sha256 = new string('0', 64), SizeBytes = 3,
            CreatedAt = MadeAt, ParentImageId = parentId,
        };
        await using var db = CreateDb();
        db.Jobs.Add(job);
        db.Images.Add(image);
        await db.SaveChangesAsync();
        return image;
    }
}
