using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Workers;
using T2IStudio.Web.Access;
using T2IStudio.Web.Api;
using T2IStudio.Web.Images;
using T2IStudio.Web.Storage;
using T2IStudio.Web.Styles;

namespace T2IStudio.Web.Jobs;

/// <summary>A text-to-image job as a page submits it.</summary>
public sealed record JobRequest
{
    /// <summary>The model id.</summary>
    public required string Model { get; init; }

    /// <summary>What to generate.</summary>
    public required GenerationRequest Request { get; init; }

    /// <summary>One key per press of Generate: submitting again with the same key returns the same job.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>A gallery to put the images in too ("Save to"); the person must be allowed to add there.</summary>
    public Guid? GalleryId { get; init; }

    /// <summary>"Hires fix": the first pass at the request's size, upscaled and refined; null for a plain run.</summary>
    public HiresOptions? Hires { get; init; }

    /// <summary>
    /// A style to apply (one of the person's own or their team's): the server expands <see cref="Request"/>'s prompts
    /// with it and records its name; <see cref="Request"/> holds what the person typed.
    /// </summary>
    public Guid? StyleId { get; init; }
}

/// <summary>An inpainting job as the editor submits it.</summary>
public sealed record InpaintJobRequest
{
    /// <summary>The model id (an inpainting UNet when there is one; any model with a VAE encoder works).</summary>
    public required string Model { get; init; }

    /// <summary>Prompt, steps, guidance, seed, scheduler, strength; width and height are the working resolution.</summary>
    public required GenerationRequest Request { get; init; }

    /// <summary>One of the person's images to start from.</summary>
    public Guid? SourceImageId { get; init; }

    /// <summary>Or an uploaded image, already decoded through the restricted decoder.</summary>
    public RgbImage? UploadedSource { get; init; }

    /// <summary>The painted mask as a PNG at the source's size (white repaints).</summary>
    public required byte[] MaskPng { get; init; }

    /// <summary>Feather radius of the mask's edge, in pixels (0–64).</summary>
    public int MaskBlur { get; init; } = 4;

    /// <summary>What the masked area starts from.</summary>
    public MaskedContent MaskedContent { get; init; } = MaskedContent.Original;

    /// <summary>Work only on the padded area around the mask.</summary>
    public bool OnlyMasked { get; init; }

    /// <summary>Pixels around the mask in "only masked" mode (0–256).</summary>
    public int Padding { get; init; } = 32;

    /// <summary>Image-to-image: repaint everything (<see cref="MaskPng"/> is ignored).</summary>
    public bool RepaintWholeImage { get; init; }

    /// <summary>One key per press of Inpaint.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>The engine's options for <paramref name="mask"/>.</summary>
    public InpaintOptions Options(GrayMask mask) => new()
    {
        Mask = mask,
        MaskBlur = MaskBlur,
        MaskedContent = MaskedContent,
        OnlyMasked = OnlyMasked,
        Padding = Padding,
    };
}

/// <summary>The outcome of a submit: the job's id, or every reason it was refused.</summary>
/// <param name="JobId">The queued job, or null.</param>
/// <param name="Errors">Why it was refused, in words for the person.</param>
public sealed record SubmitResult(Guid? JobId, IReadOnlyList<string> Errors)
{
    /// <summary>True when a job is queued.</summary>
    public bool Succeeded => JobId is not null;
}

/// <summary>What a cancel did.</summary>
public enum CancelOutcome
{
    /// <summary>No such job for this person.</summary>
    NotFound,

    /// <summary>It was waiting and is now cancelled.</summary>
    Canceled,

    /// <summary>It is running and stops before its next step.</summary>
    Stopping,

    /// <summary>It had already finished.</summary>
    AlreadyFinished,
}

/// <summary>A job as its owner sees it.</summary>
/// <param name="Id">The job.</param>
/// <param name="Status">Where it is.</param>
/// <param name="Model">The model id.</param>
/// <param name="Prompt">The prompt.</param>
/// <param name="BatchSize">Images.</param>
/// <param name="Width">Width.</param>
/// <param name="Height">Height.</param>
/// <param name="Step">Steps finished.</param>
/// <param name="TotalSteps">Steps it takes.</param>
/// <param name="CreatedAt">Submitted.</param>
/// <param name="FinishedAt">Finished, if it has.</param>
/// <param name="Error">Why it failed.</param>
/// <param name="ImageIds">Its images, in batch order.</param>
/// <param name="Standing">Its place in line or progress while waiting or running; null otherwise.</param>
/// <param name="GalleryId">The gallery it saves into, if any.</param>
/// <param name="OwnerId">Whose it is (a teammate's, when it saves into a team gallery the person sees).</param>
public sealed record JobView(Guid Id, JobStatus Status, string Model, string Prompt, int BatchSize, int Width, int Height,
    int Step, int TotalSteps, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt, string? Error, IReadOnlyList<Guid> ImageIds, QueueStanding? Standing,
    Guid? GalleryId = null, string? OwnerId = null);

/// <summary>A waiting or running job as the Admin → Queue page lists it.</summary>
/// <param name="Id">The job.</param>
/// <param name="OwnerId">Whose it is.</param>
/// <param name="Owner">Its owner's email.</param>
/// <param name="Model">The model id.</param>
/// <param name="Prompt">The prompt.</param>
/// <param name="Status">Queued or Running.</param>
/// <param name="Position">Jobs ahead of it (0: next), or null while it runs.</param>
/// <param name="Step">Steps finished.</param>
/// <param name="TotalSteps">Steps it takes.</param>
/// <param name="BatchSize">Images.</param>
/// <param name="Width">Width.</param>
/// <param name="Height">Height.</param>
/// <param name="CreatedAt">Submitted.</param>
/// <param name="WorkerName">The worker running it (running jobs).</param>
public sealed record QueueEntry(Guid Id, string OwnerId, string Owner, string Model, string Prompt, JobStatus Status,
    int? Position, int Step, int TotalSteps, int BatchSize, int Width, int Height, DateTimeOffset CreatedAt, string? WorkerName = null);

/// <summary>
/// The front door of generation: validates a request against the model's files and the person's rights, and
/// hands the job to the <see cref="JobLifecycle"/>, which queues it under the per-person quota and answers right
/// away; a worker does the rest.
/// Every job id is checked against the caller: someone else's job reads as missing.
/// </summary>
public sealed partial class GenerationService(
    IDbContextFactory<AppDbContext> dbFactory,
    ModelHost models,
    JobLifecycle lifecycle,
    GalleryAccess galleries,
    ResourceAccess access,
    ImageLibrary library,
    ImageStore store,
    StorageQuota quota,
    StyleLibrary styles,
    ILogger<GenerationService> logger)
{
    /// <summary>Checks and queues <paramref name="job"/> for <paramref name="user"/>.</summary>
    public async Task<SubmitResult> SubmitAsync(ClaimsPrincipal user, JobRequest job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(job);
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return Refused("Sign in to generate images.");
        }
        StyleUse? styleUse = null;
        if (job.StyleId is { } styleId)
        {
            // The style's access rules decide, as on the picker: someone else's style reads as not there.
            if (await styles.GetAsync(user, styleId, cancellationToken) is not { } style)
            {
                return Refused("That style is not available.");
            }
            var own = job.Request;
            styleUse = new StyleUse { Name = style.Name, Id = style.Id, Prompt = own.Prompt, NegativePrompt = own.NegativePrompt };
            job = job with
            {
                Request = own with
                {
                    Prompt = StyleExpansion.Prompt(own.Prompt, style.Prompt),
                    NegativePrompt = StyleExpansion.NegativePrompt(own.NegativePrompt, style.NegativePrompt),
                },
            };
        }
        var errors = Validate(job);
        if (errors.Count > 0)
        {
            return new SubmitResult(null, errors);
        }
        if (await quota.RefusalAsync(userId, cancellationToken) is { } full)
        {
            return Refused(full);
        }

        if (job.GalleryId is { } galleryId && await galleries.RoleAsync(userId, galleryId, cancellationToken) is not >= TeamRole.Editor)
        {
            return Refused("You cannot add images to that gallery.");
        }
        // The stored request holds what runs (the expanded prompts) and, in Style, what the person typed.
        var stored = GenerationMetadata.Describe(job.Request, job.Model, 0) with { BatchSize = job.Request.BatchSize, Style = styleUse, Hires = job.Hires };
        return await QueueAsync(userId, ApiTokenClaims.TokenIdOf(user), job.Model, job.Request, stored, job.IdempotencyKey, row =>
        {
            row.GalleryId = job.GalleryId;
            if (job.Hires is { } hires && models.Catalog.Find(job.Model) is { Traits: { } traits } model)
            {
                // The job's size is what it delivers; its steps run through all three phases.
                (row.Width, row.Height) = hires.TargetSize(job.Request.Width, job.Request.Height, traits.VaeScaleFactor);
                row.TotalSteps = HiresFix.TotalSteps(model, job.Request, hires);
            }
        }, cancellationToken);
    }

    /// <summary>
    /// Checks and queues an inpainting job: the source (one of the person's images, or an upload already
    /// decoded) and the painted mask are validated, stored as PNGs under new keys, and named by the job.
    /// </summary>
    public async Task<SubmitResult> SubmitInpaintAsync(ClaimsPrincipal user, InpaintJobRequest job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(job);
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return Refused("Sign in to inpaint images.");
        }
        if (await quota.RefusalAsync(userId, cancellationToken) is { } full)
        {
            return Refused(full);
        }
        RgbImage source;
        if (job.SourceImageId is { } parentId)
        {
            if (await library.GetAsync(user, parentId, cancellationToken) is not { } parent)
            {
                return Refused("That image is not available.");
            }
            try
            {
                using var stream = new MemoryStream(await store.ReadAsync(parent.FileKey, cancellationToken));
                source = PngFiles.DecodeStored(stream);
            }
            catch (Exception ex) when (ex is IOException or ImageRefusedException)
            {
                LogSourceUnreadable(ex, parentId);
                return Refused("That image's file could not be read.");
            }
        }
        else if (job.UploadedSource is { } upload)
        {
            source = upload;
        }
        else
        {
            return Refused("Choose an image to inpaint: one from your gallery, or an upload.");
        }

        GrayMask mask;
        try
        {
            mask = job.RepaintWholeImage
                ? new GrayMask(source.Width, source.Height, Enumerable.Repeat((byte)255, source.Width * source.Height).ToArray())
                : MaskFiles.Decode(job.MaskPng, source.Width, source.Height);
        }
        catch (InvalidDataException ex)
        {
            return Refused(ex.Message);
        }
        var options = job.Options(mask);
        var errors = ValidateInpaint(job, options, source);
        if (errors.Count > 0)
        {
            return new SubmitResult(null, errors);
        }

        var request = job.Request with { InitImage = null };
        var stored = GenerationMetadata.Describe(request, job.Model, 0, options) with { BatchSize = request.BatchSize, Strength = request.Strength };
        var sourceFile = await store.WritePngAsync(PngFiles.Encode(source, null, null), cancellationToken);
        var maskFile = await store.WritePngAsync(MaskFiles.Encode(mask), cancellationToken);
        var result = await QueueAsync(userId, ApiTokenClaims.TokenIdOf(user), job.Model, request, stored, job.IdempotencyKey, row =>
        {
            row.SourceFileKey = sourceFile.Key;
            row.MaskFileKey = maskFile.Key;
            row.ParentImageId = job.SourceImageId;
        }, cancellationToken);
        if (!result.Succeeded || !await IsSourceOfAsync(result.JobId!.Value, sourceFile.Key, cancellationToken))
        {
            // Refused, or a repeated press returned the first job: these copies belong to nobody.
            store.Delete(sourceFile.Key);
            store.Delete(maskFile.Key);
        }
        return result;
    }

    /// <summary>
    /// Checks and queues an image-to-image job: the whole source is repainted from its own pixels at the request's
    /// strength (an inpaint whose mask covers everything, unfeathered), through the same checks, files and workers as Inpaint.
    /// </summary>
    public Task<SubmitResult> SubmitImageToImageAsync(ClaimsPrincipal user, InpaintJobRequest job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        return SubmitInpaintAsync(user, job with { MaskPng = [], RepaintWholeImage = true, MaskBlur = 0, MaskedContent = MaskedContent.Original, OnlyMasked = false }, cancellationToken);
    }

    /// <summary>
    /// Checks and queues an upscale of one of the images <paramref name="user"/> may see: ×<paramref name="scale"/> (2 or 4)
    /// with <paramref name="upscalerId"/>, or the first available upscaler. The result is a child of the image (its
    /// lineage) and keeps the image's own parameters with the upscale added; someone else's image is "not available".
    /// </summary>
    public async Task<SubmitResult> SubmitUpscaleAsync(ClaimsPrincipal user, Guid imageId, int scale, string? upscalerId = null, string? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return Refused("Sign in to upscale images.");
        }
        if (await library.GetAsync(user, imageId, cancellationToken) is not { } parent)
        {
            return Refused("That image is not available.");
        }
        if (UpscaleRefusal(parent.Width, parent.Height, scale) is { } refusal)
        {
            return Refused(refusal);
        }
        var upscaler = upscalerId is null
            ? models.Upscalers.List().FirstOrDefault(u => u.IsAvailable)
            : models.Upscalers.Find(upscalerId);
        if (upscaler is not { IsAvailable: true })
        {
            return Refused(upscalerId is null ? "No upscaler is installed: put one under models/upscalers/." : $"There is no upscaler '{upscalerId}'.");
        }
        if (idempotencyKey is { Length: > 64 })
        {
            return Refused("The request key is too long.");
        }
        if (await quota.RefusalAsync(userId, cancellationToken) is { } full)
        {
            return Refused(full);
        }
        var source = GenerationMetadata.ReadStoredRequest(parent.RequestJson) ?? new StoredRequest
        {
            Model = parent.Model,
            Prompt = parent.Prompt,
            NegativePrompt = parent.NegativePrompt ?? "",
            Width = parent.Width,
            Height = parent.Height,
            Seed = parent.Seed,
        };
        var stored = source with
        {
            BatchSize = null,
            Upscale = new UpscaleRecord { Upscaler = upscaler.Id, Scale = scale, SourceModelHash = parent.ModelHash },
        };
        byte[] png;
        try
        {
            png = await store.ReadAsync(parent.FileKey, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogSourceUnreadable(ex, imageId);
            return Refused("That image's file could not be read.");
        }
        // The job owns a copy: the source's file is released when the job ends, the image's own stays.
        StoredFile sourceFile;
        try
        {
            sourceFile = await store.WritePngAsync(png, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogSourceCopyFailed(ex, imageId);
            return Refused("The upscale's copy of the image could not be stored; try again later.");
        }
        var request = new GenerationRequest { Prompt = parent.Prompt, Steps = WorkerLoop.UpscaleJobSteps, Width = parent.Width * scale, Height = parent.Height * scale, Seed = parent.Seed };
        var owned = false;
        try
        {
            var result = await QueueAsync(userId, ApiTokenClaims.TokenIdOf(user), WorkerModels.ForUpscaler(upscaler.Id), request, stored, idempotencyKey, row =>
            {
                row.SourceFileKey = sourceFile.Key;
                row.ParentImageId = parent.Id;
            }, cancellationToken, recordPrompt: false);
            // An idempotent replay answers with the earlier job, which holds its own copy.
            owned = result.Succeeded && await IsSourceOfAsync(result.JobId!.Value, sourceFile.Key, cancellationToken);
            return result;
        }
        finally
        {
            if (!owned)
            {
                store.Delete(sourceFile.Key);
            }
        }
    }

    private async Task<bool> IsSourceOfAsync(Guid jobId, Guid sourceKey, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Jobs.AnyAsync(j => j.Id == jobId && j.SourceFileKey == sourceKey, cancellationToken);
    }

    private List<string> ValidateInpaint(InpaintJobRequest job, InpaintOptions options, RgbImage source)
    {
        if (string.IsNullOrWhiteSpace(job.Model) || models.Catalog.Find(job.Model) is not { } model)
        {
            return [$"There is no model '{job.Model}'."];
        }
        // The engine works on a (width × height) picture cut from the source: validate that request and the options.
        var errors = StableDiffusionPipeline.Validate(model, job.Request with { InitImage = null }, startsFromImage: true).ToList();
        errors.AddRange(options.Problems());
        if ((long)source.Width * source.Height > PngFiles.MaxPixels)
        {
            errors.Add($"The image is {source.Width}×{source.Height}; the limit is {PngFiles.MaxPixels / (1024 * 1024)} megapixels.");
        }
        if (job.IdempotencyKey is { Length: > 64 })
        {
            errors.Add("The request key is too long.");
        }
        return errors;
    }

    private async Task<SubmitResult> QueueAsync(string userId, Guid? apiTokenId, string modelId, GenerationRequest request, StoredRequest stored, string? idempotencyKey, Action<Job>? configure, CancellationToken cancellationToken, bool recordPrompt = true)
    {
        var row = new Job
        {
            Id = Guid.NewGuid(),
            Model = modelId,
            Prompt = request.Prompt,
            RequestJson = GenerationMetadata.ToJson(stored),
            BatchSize = request.BatchSize,
            TotalSteps = request.Steps,
            Width = request.Width,
            Height = request.Height,
            ApiTokenId = apiTokenId,
        };
        configure?.Invoke(row);
        var result = await lifecycle.QueueAsync(userId, row, idempotencyKey, recordPrompt ? stored.Style?.Prompt ?? request.Prompt : null,
            stored.Style?.NegativePrompt ?? request.NegativePrompt ?? "", cancellationToken);
        if (result.JobId == row.Id)
        {
            LogQueued(row.Id, modelId, request.Steps, request.BatchSize);
        }
        return result;
    }

    /// <summary>Every reason <paramref name="job"/> cannot be queued; empty when it can.</summary>
    public IReadOnlyList<string> Validate(JobRequest job)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (string.IsNullOrWhiteSpace(job.Model) || models.Catalog.Find(job.Model) is not { } model)
        {
            return [$"There is no model '{job.Model}'."];
        }
        var errors = (job.Hires is { } hires
            ? HiresFix.Validate(model, job.Request, hires, models.Upscalers.Find)
            : StableDiffusionPipeline.Validate(model, job.Request)).ToList();
        if (job.Request.InitImage is not null)
        {
            errors.Add("This queue takes text-to-image jobs; use Inpaint to start from an image.");
        }
        if (job.IdempotencyKey is { Length: > 64 })
        {
            errors.Add("The request key is too long.");
        }
        return errors;
    }

    /// <summary>
    /// Cancels a waiting job, or asks a running one to stop before its next step. Its owner may, and so may an
    /// admin in the browser (not through a token), on anyone's job (the owner hears <see cref="Realtime.JobCanceled"/> as usual); to anyone else it is missing.
    /// </summary>
    public async Task<CancelOutcome> CancelAsync(ClaimsPrincipal user, Guid jobId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == jobId, cancellationToken);
        // An admin may stop anyone's job from the Admin page; an admin's API token acts as a person, never as an admin.
        var asAdmin = job is not null && ApiTokenClaims.TokenIdOf(user) is null && await IsAdminAsync(db, user, cancellationToken);
        if (!await access.AllowsAsync(user, job, ResourceOperations.Change) && !asAdmin)
        {
            return CancelOutcome.NotFound;
        }
        return await lifecycle.CancelAsync(jobId, cancellationToken);
    }

    /// <summary>One job of the signed-in person, or null when it does not exist or is someone else's.</summary>
    public async Task<JobView?> GetJobAsync(ClaimsPrincipal user, Guid jobId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var job = await db.Jobs.AsNoTracking().Include(j => j.Images).SingleOrDefaultAsync(j => j.Id == jobId, cancellationToken);
        return await access.AllowsAsync(user, job, ResourceOperations.Read) ? View(job!, await lifecycle.SnapshotAsync(cancellationToken)) : null;
    }

    /// <summary>The person's waiting and running jobs, then their most recent finished ones; newest first.</summary>
    public async Task<IReadOnlyList<JobView>> ListJobsAsync(ClaimsPrincipal user, int recentFinished = 10, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return [];
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var mine = db.Jobs.AsNoTracking().Include(j => j.Images).Where(j => j.OwnerId == userId);
        var active = await mine.Where(j => j.Status == JobStatus.Queued || j.Status == JobStatus.Running)
            .OrderByDescending(j => j.CreatedAt).ToListAsync(cancellationToken);
        var finished = await mine.Where(j => j.Status != JobStatus.Queued && j.Status != JobStatus.Running)
            .OrderByDescending(j => j.CreatedAt).Take(recentFinished).ToListAsync(cancellationToken);
        var snapshot = active.Count > 0 ? await lifecycle.SnapshotAsync(cancellationToken) : null;
        return [.. active.Concat(finished).Select(j => View(j, snapshot))];
    }

    /// <summary>
    /// Every waiting and running job of everyone, for the Admin → Queue page: running first, then waiting in the
    /// order the worker will take them. Empty for anyone but an admin.
    /// </summary>
    public async Task<IReadOnlyList<QueueEntry>> ListQueueAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (!await IsAdminAsync(db, user, cancellationToken))
        {
            return [];
        }
        var rows = await db.Jobs.AsNoTracking()
            .Where(j => j.Status == JobStatus.Queued || j.Status == JobStatus.Running)
            .Select(j => new { j.Id, j.OwnerId, Owner = j.Owner!.Email, j.Model, j.Prompt, j.Status, j.Step, j.TotalSteps, j.BatchSize, j.Width, j.Height, j.CreatedAt, j.WorkerName })
            .ToListAsync(cancellationToken);
        var snapshot = await lifecycle.SnapshotAsync(cancellationToken);
        return [.. rows
            .Select(j =>
            {
                var standing = snapshot.StandingOf(j.Id, lifecycle);
                return new QueueEntry(j.Id, j.OwnerId, j.Owner ?? j.OwnerId, j.Model, j.Prompt, j.Status,
                    standing?.Position, standing?.Step ?? j.Step, j.TotalSteps, j.BatchSize, j.Width, j.Height, j.CreatedAt,
                    j.Status == JobStatus.Running ? standing?.WorkerName ?? j.WorkerName : null);
            })
            .OrderBy(e => e.Status == JobStatus.Running ? 0 : 1)
            .ThenBy(e => e.Position ?? int.MaxValue)
            .ThenBy(e => e.CreatedAt)];
    }

    /// <summary>Where a job stands (position, progress, estimate, worker) as of the last read of the queue, at most a second old; null when it is not in line.</summary>
    public QueueStanding? StandingOf(Guid jobId) => lifecycle.StandingOf(jobId);

    /// <summary>Where a job stands, from a fresh read of the queue; null when it is not in line.</summary>
    public Task<QueueStanding?> StandingOfAsync(Guid jobId, CancellationToken cancellationToken = default) => lifecycle.StandingOfAsync(jobId, cancellationToken);

    private JobView View(Job job, QueueSnapshot? snapshot)
    {
        var standing = job.IsFinished ? null : snapshot?.StandingOf(job.Id, lifecycle);
        var step = job.Status == JobStatus.Completed ? job.TotalSteps : standing?.Step ?? job.Step;
        return new(job.Id, job.Status, job.Model, job.Prompt, job.BatchSize, job.Width, job.Height, step, job.TotalSteps,
            job.CreatedAt, job.FinishedAt, job.Error, [.. job.Images.OrderBy(i => i.BatchIndex).Select(i => i.Id)], standing, job.GalleryId, job.OwnerId);
    }

    private static SubmitResult Refused(string error) => new(null, [error]);

    /// <summary>
    /// Why an image of <paramref name="width"/> × <paramref name="height"/> cannot be upscaled by
    /// <paramref name="scale"/>; null when it can. The one size check for upscale jobs: the lightbox greys out the
    /// factors it refuses, with this reason, and <see cref="SubmitUpscaleAsync"/> refuses them.
    /// </summary>
    public static string? UpscaleRefusal(int width, int height, int scale)
    {
        if (scale is not (2 or 4))
        {
            return $"Upscale by 2 or 4, not {scale}.";
        }
        if ((long)width * scale * height * scale > PngFiles.MaxPixels)
        {
            return $"The image is {width}×{height}; ×{scale} would be over the {PngFiles.MaxPixels / (1024 * 1024)}-megapixel limit.";
        }
        return null;
    }

    /// <summary>Whether <paramref name="user"/> holds the Admin role now (read from the database, not the cookie's claims).</summary>
    private static async Task<bool> IsAdminAsync(AppDbContext db, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        ResourceAccess.UserId(user) is { } userId
        && await db.AdminUserIds().AnyAsync(id => id == userId, cancellationToken);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The file of image {ImageId} could not be read as an inpainting source")]
    private partial void LogSourceUnreadable(Exception ex, Guid imageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The upscale source copy of image {ImageId} could not be written")]
    private partial void LogSourceCopyFailed(Exception ex, Guid imageId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Queued job {JobId}: {Model}, {Steps} steps × {Batch}")]
    private partial void LogQueued(Guid jobId, string model, int steps, int batch);
}
