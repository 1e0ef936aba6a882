using System.Buffers.Text;
using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Web.Access;
using T2IStudio.Web.Images;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Api;

/// <summary><c>/api/v1</c>: submitting jobs, their status, cancel, list, live events, and the models.</summary>
public static class ApiV1Jobs
{
    /// <summary>The header whose value makes a submit idempotent: a repeat returns the first job.</summary>
    public const string IdempotencyHeader = "Idempotency-Key";

    /// <summary>The longest <see cref="IdempotencyHeader"/> value.</summary>
    public const int MaxIdempotencyKeyLength = 64;

    /// <summary>Events held for a slow reader of <c>/events</c>; past that, steps are dropped (a later one supersedes them).</summary>
    private const int EventBuffer = 64;

    /// <summary>Maps the job routes.</summary>
    public static RouteGroupBuilder MapApiV1Jobs(this RouteGroupBuilder v1)
    {
        ArgumentNullException.ThrowIfNull(v1);
        v1.MapGet("/models", ListModels).WithTags("Jobs").WithName("ListModels")
            .WithSummary("The models, with their schedulers and default sizes.");
        v1.MapPost("/jobs/txt2img", SubmitTxt2ImgAsync).WithTags("Jobs").WithName("SubmitTxt2Img")
            .WithSummary("Queues a text-to-image job (202 with the job; Idempotency-Key makes a repeat return the same job).")
            .RequireAuthorization(ApiTokenClaims.GeneratePolicy);
        v1.MapPost("/jobs/img2img", SubmitImg2ImgAsync).WithTags("Jobs").WithName("SubmitImg2Img")
            .WithSummary("Queues an image-to-image job from an uploaded image or one of yours (multipart/form-data).")
            .RequireAuthorization(ApiTokenClaims.GeneratePolicy).DisableAntiforgery();
        v1.MapPost("/jobs/inpaint", SubmitInpaintAsync).WithTags("Jobs").WithName("SubmitInpaint")
            .WithSummary("Queues an inpaint job: an image (upload or one of yours) and a mask (multipart/form-data).")
            .RequireAuthorization(ApiTokenClaims.GeneratePolicy).DisableAntiforgery();
        v1.MapGet("/jobs", ListJobsAsync).WithTags("Jobs").WithName("ListJobs")
            .WithSummary("Your jobs, newest first, a page at a time.");
        v1.MapGet("/jobs/{id:guid}", GetJobAsync).WithTags("Jobs").WithName("GetJob")
            .WithSummary("A job's status, progress and images.");
        v1.MapPost("/jobs/{id:guid}/cancel", CancelJobAsync).WithTags("Jobs").WithName("CancelJob")
            .WithSummary("Cancels a waiting job, or stops a running one before its next step.")
            .RequireAuthorization(ApiTokenClaims.GeneratePolicy);
        v1.MapGet("/jobs/{id:guid}/events", GetJobEventsAsync).WithTags("Jobs").WithName("GetJobEvents")
            .WithSummary("A job's live events as server-sent events: queued, position, started, step, then completed, failed or canceled.");
        return v1;
    }

    /// <summary>The models, available or not, with their schedulers and default sizes.</summary>
    public static Ok<IReadOnlyList<ApiModelDto>> ListModels(ModelHost models)
    {
        ArgumentNullException.ThrowIfNull(models);
        IReadOnlyList<ApiModelDto> list = [.. models.Catalog.List().Select(m =>
        {
            var traits = m.Traits;
            var defaults = traits?.Defaults;
            return new ApiModelDto(m.Id, m.IsAvailable, m.Problem, m.Summary, traits?.HasVaeEncoder == true, traits?.IsInpainting == true,
                m.IsAvailable ? [.. GenerationSettings.SchedulersFor(m).Select(k => k.ToString())] : [],
                defaults is null ? null : (traits!.IsLcm ? SchedulerKind.Lcm : defaults.Scheduler).ToString(),
                defaults?.Width, defaults?.Height, defaults?.Steps, defaults?.Guidance,
                defaults is null ? [] : GenerationSettings.SizePresets(defaults, traits!.VaeScaleFactor));
        })];
        return TypedResults.Ok(list);
    }

    /// <summary>Queues a text-to-image job: 202 with the job and its Location; Idempotency-Key makes a repeat return the same job.</summary>
    public static async Task<Results<Accepted<ApiJobDto>, ValidationProblem, ProblemHttpResult>> SubmitTxt2ImgAsync(
        Txt2ImgRequest body, [FromHeader(Name = IdempotencyHeader)] string? idempotencyKey, ClaimsPrincipal user,
        ModelHost models, GenerationService generation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(generation);
        if (KeyProblem(idempotencyKey) is { } keyProblem)
        {
            return keyProblem;
        }
        var model = FindModel(models, body.Model, m => true);
        var settings = new GenerationSettings();
        if (model is not null)
        {
            settings.UseModel(model);
        }
        var request = settings.ToRequest() with
        {
            Prompt = body.Prompt!,
            NegativePrompt = body.NegativePrompt ?? "",
            Steps = body.Steps ?? settings.Steps,
            GuidanceScale = body.Guidance ?? settings.Guidance,
            Width = body.Width ?? settings.Width,
            Height = body.Height ?? settings.Height,
            Seed = body.Seed ?? settings.Seed,
            BatchSize = body.BatchSize ?? 1,
        };
        if (Problems(request, model, body.Model, body.Scheduler, startsFromImage: false) is { } problem)
        {
            return problem;
        }
        request = request with { Scheduler = SchedulerOf(body.Scheduler, model!) };
        var submitted = await generation.SubmitAsync(user, new JobRequest
        {
            Model = model!.Id,
            Request = request,
            IdempotencyKey = idempotencyKey,
            GalleryId = body.GalleryId,
            Hires = body.Hires,
        }, cancellationToken);
        return await AcceptedAsync(submitted, user, generation, cancellationToken);
    }

    /// <summary>Queues an image-to-image job (multipart): the file part <c>image</c> or <c>sourceImageId</c>, repainted at <c>strength</c>.</summary>
    public static Task<Results<Accepted<ApiJobDto>, ValidationProblem, ProblemHttpResult>> SubmitImg2ImgAsync(
        [AsParameters] ImageJobForm form, [FromHeader(Name = IdempotencyHeader)] string? idempotencyKey, ClaimsPrincipal user,
        ModelHost models, GenerationService generation, ImageLibrary library, ImageUploads uploads, CancellationToken cancellationToken) =>
        SubmitFromImageAsync(form, inpaint: false, idempotencyKey, user, models, generation, library, uploads, cancellationToken);

    /// <summary>Queues an inpaint job (multipart): <c>image</c> or <c>sourceImageId</c>, and the file part <c>mask</c> (white repaints).</summary>
    public static Task<Results<Accepted<ApiJobDto>, ValidationProblem, ProblemHttpResult>> SubmitInpaintAsync(
        [AsParameters] ImageJobForm form, [FromHeader(Name = IdempotencyHeader)] string? idempotencyKey, ClaimsPrincipal user,
        ModelHost models, GenerationService generation, ImageLibrary library, ImageUploads uploads, CancellationToken cancellationToken) =>
        SubmitFromImageAsync(form, inpaint: true, idempotencyKey, user, models, generation, library, uploads, cancellationToken);

    /// <summary>Your jobs, newest first: <c>limit</c> (1–100, default 30) after <c>cursor</c> (the last page's <c>nextCursor</c>).</summary>
    public static async Task<Results<Ok<ApiJobPage>, ValidationProblem>> ListJobsAsync(string? cursor, string? limit, ClaimsPrincipal user,
        IDbContextFactory<AppDbContext> dbFactory, GenerationService generation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dbFactory);
        ArgumentNullException.ThrowIfNull(generation);
        if (!ApiPaging.TryRead(cursor, limit, out var request, out var problem))
        {
            return problem;
        }
        var size = request.Limit;
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return TypedResults.Ok(new ApiJobPage([], null));
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var mine = db.Jobs.AsNoTracking().Include(j => j.Images).Where(j => j.OwnerId == userId);
        if (request.After is { } after)
        {
            // Newest first, ties by id: the same keyset as the image, gallery and prompt lists.
            var (at, id) = (after.At, after.Id);
            mine = mine.Where(j => j.CreatedAt < at || (j.CreatedAt == at && j.Id.CompareTo(id) > 0));
        }
        var ordered = await mine.OrderByDescending(j => j.CreatedAt).ThenBy(j => j.Id).Take(size + 1).ToListAsync(cancellationToken);
        var (page, next) = ApiPaging.Page(ordered, size, j => (j.CreatedAt, j.Id));
        return TypedResults.Ok(new ApiJobPage([.. page.Select(j => Dto(ViewOf(j, generation)))], next));
    }

    /// <summary>A job's status, progress and images (yours, or one saving into a gallery you see).</summary>
    public static async Task<Results<Ok<ApiJobDto>, NotFound>> GetJobAsync(Guid id, ClaimsPrincipal user, GenerationService generation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(generation);
        return await generation.GetJobAsync(user, id, cancellationToken) is { } job ? TypedResults.Ok(Dto(job)) : TypedResults.NotFound();
    }

    /// <summary>Cancels a waiting job, or stops a running one before its next step.</summary>
    public static async Task<Results<Ok<ApiCancelDto>, NotFound>> CancelJobAsync(Guid id, ClaimsPrincipal user, GenerationService generation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(generation);
        var outcome = await generation.CancelAsync(user, id, cancellationToken);
        return outcome == CancelOutcome.NotFound ? TypedResults.NotFound() : TypedResults.Ok(new ApiCancelDto(id, outcome.ToString()));
    }

    /// <summary>A job's live events (server-sent events): queued, position, started, step, then completed, failed or canceled; then the stream ends.</summary>
    /// <remarks>Subscribes before reading the job, so nothing between the read and the first event is missed.</remarks>
    public static async Task<Results<ServerSentEventsResult<ApiJobEventData>, NotFound>> GetJobEventsAsync(Guid id, ClaimsPrincipal user,
        GenerationService generation, JobLifecycle lifecycle, StudioNotifier notifier, HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(generation);
        ArgumentNullException.ThrowIfNull(notifier);
        ArgumentNullException.ThrowIfNull(context);
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return TypedResults.NotFound();
        }
        var channel = Channel.CreateBounded<JobEvent>(new BoundedChannelOptions(EventBuffer) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        var subscription = notifier.Subscribe(userId, e => ForwardAsync(channel.Writer, id, e));
        context.Response.RegisterForDispose(subscription);
        if (await generation.GetJobAsync(user, id, cancellationToken) is not { } job)
        {
            subscription.Dispose();
            channel.Writer.TryComplete();
            return TypedResults.NotFound();
        }
        return TypedResults.ServerSentEvents(StreamAsync(job, channel, subscription, lifecycle, cancellationToken));
    }

    private static async Task ForwardAsync(ChannelWriter<JobEvent> writer, Guid jobId, StudioEvent studioEvent)
    {
        if (studioEvent is not JobEvent jobEvent || jobEvent.JobId != jobId || jobEvent is GalleryChanged)
        {
            return;
        }
        if (writer.TryWrite(jobEvent) || jobEvent is JobProgress or JobStandingChanged)
        {
            // Full: a step or a place in line is superseded by the next one; only the others must wait their turn.
            return;
        }
        try
        {
            await writer.WriteAsync(jobEvent);
        }
        catch (ChannelClosedException)
        {
            // The stream ended first.
        }
    }

    private static async IAsyncEnumerable<SseItem<ApiJobEventData>> StreamAsync(JobView job, Channel<JobEvent> channel, IDisposable subscription,
        JobLifecycle lifecycle, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            var state = new StreamState(job.Id, job.TotalSteps);
            foreach (var item in state.Initial(job, lifecycle.LatestPreviewOf(job.Id)))
            {
                yield return item;
            }
            if (state.Ended)
            {
                yield break;
            }
            await foreach (var jobEvent in channel.Reader.ReadAllAsync(cancellationToken))
            {
                foreach (var item in state.Next(jobEvent))
                {
                    yield return item;
                }
                if (state.Ended)
                {
                    yield break;
                }
            }
        }
        finally
        {
            subscription.Dispose();
            channel.Writer.TryComplete();
        }
    }

    /// <summary>What a stream has told its reader, so a replayed or stale event is not told twice.</summary>
    private sealed class StreamState(Guid jobId, int totalSteps)
    {
        private bool _queued;
        private bool _started;
        private int _step = -1;
        private int? _position;

        public bool Ended { get; private set; }

        public IEnumerable<SseItem<ApiJobEventData>> Initial(JobView job, byte[]? preview)
        {
            switch (job.Status)
            {
                case JobStatus.Queued:
                    _queued = true;
                    _position = job.Standing?.Position;
                    yield return Item("queued", new(jobId, nameof(JobStatus.Queued), Position: _position));
                    break;
                case JobStatus.Running:
                    _queued = true;
                    _started = true;
                    yield return Item("started", new(jobId, nameof(JobStatus.Running), Step: job.Step, TotalSteps: totalSteps));
                    _step = job.Step;
                    yield return Item("step", new(jobId, nameof(JobStatus.Running), Step: job.Step, TotalSteps: totalSteps, Preview: DataUrl(preview)));
                    break;
                case JobStatus.Completed:
                    Ended = true;
                    yield return Item("completed", new(jobId, nameof(JobStatus.Completed), Step: totalSteps, TotalSteps: totalSteps, ImageIds: job.ImageIds));
                    break;
                case JobStatus.Failed:
                    Ended = true;
                    yield return Item("failed", new(jobId, nameof(JobStatus.Failed), Error: job.Error));
                    break;
                default:
                    Ended = true;
                    yield return Item("canceled", new(jobId, nameof(JobStatus.Canceled)));
                    break;
            }
        }

        public IEnumerable<SseItem<ApiJobEventData>> Next(JobEvent jobEvent)
        {
            switch (jobEvent)
            {
                case JobQueued when !_queued || _started:
                    // Its first queueing, or back in line after a lost worker: steps start again from 0.
                    (_queued, _started, _step, _position) = (true, false, 0, null);
                    yield return Item("queued", new(jobId, nameof(JobStatus.Queued)));
                    break;
                case JobStandingChanged { Standing.Position: { } position } when !_started && position != _position:
                    _position = position;
                    yield return Item("position", new(jobId, nameof(JobStatus.Queued), Position: position));
                    break;
                case JobStarted when !_started:
                    _started = true;
                    yield return Item("started", new(jobId, nameof(JobStatus.Running), Step: 0, TotalSteps: totalSteps));
                    break;
                case JobProgress progress when progress.Step > _step:
                    if (!_started)
                    {
                        _started = true;
                        yield return Item("started", new(jobId, nameof(JobStatus.Running), Step: 0, TotalSteps: progress.TotalSteps));
                    }
                    _step = progress.Step;
                    yield return Item("step", new(jobId, nameof(JobStatus.Running), Step: progress.Step, TotalSteps: progress.TotalSteps, Preview: DataUrl(progress.PreviewJpeg)));
                    break;
                case JobCompleted completed:
                    Ended = true;
                    yield return Item("completed", new(jobId, nameof(JobStatus.Completed), Step: totalSteps, TotalSteps: totalSteps, ImageIds: completed.ImageIds));
                    break;
                case JobFailed failed:
                    Ended = true;
                    yield return Item("failed", new(jobId, nameof(JobStatus.Failed), Error: failed.Error));
                    break;
                case JobCanceled:
                    Ended = true;
                    yield return Item("canceled", new(jobId, nameof(JobStatus.Canceled)));
                    break;
            }
        }

        private static SseItem<ApiJobEventData> Item(string type, ApiJobEventData data) => new(data, type);

        private static string? DataUrl(byte[]? jpeg) => jpeg is { Length: > 0 } ? "data:image/jpeg;base64," + Convert.ToBase64String(jpeg) : null;
    }

    private static async Task<Results<Accepted<ApiJobDto>, ValidationProblem, ProblemHttpResult>> SubmitFromImageAsync(ImageJobForm form, bool inpaint,
        string? idempotencyKey, ClaimsPrincipal user, ModelHost models, GenerationService generation, ImageLibrary library, ImageUploads uploads,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(form);
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(generation);
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(uploads);
        if (KeyProblem(idempotencyKey) is { } keyProblem)
        {
            return keyProblem;
        }

        // The source: an upload through the hardened intake, or one of the caller's images.
        RgbImage? uploaded = null;
        int sourceWidth, sourceHeight;
        if (form.Image is { } file)
        {
            var outcome = await uploads.ReadAsync("image", file.OpenReadStream, cancellationToken);
            if (!outcome.Succeeded)
            {
                return ApiProblems.Invalid("image", outcome.Refusal ?? "The image could not be read.");
            }
            uploaded = outcome.Image!;
            (sourceWidth, sourceHeight) = (uploaded.Width, uploaded.Height);
        }
        else if (form.SourceImageId is { } sourceId)
        {
            if (await library.GetAsync(user, sourceId, cancellationToken) is not { } source)
            {
                return ApiProblems.Invalid("sourceImageId", "That image is not available.");
            }
            (sourceWidth, sourceHeight) = (source.Width, source.Height);
        }
        else
        {
            return ApiProblems.Invalid("image", "Send the source as the file part 'image', or name one of your images as 'sourceImageId'.");
        }

        byte[] maskPng = [];
        if (inpaint)
        {
            if (form.Mask is not { } maskFile)
            {
                return ApiProblems.Invalid("mask", "Send the mask as the file part 'mask' (white repaints, black keeps).");
            }
            // Read as A1111 reads a mask: its alpha when it has transparency (transparent keeps), else its grey level.
            var outcome = await uploads.ReadMaskAsync("mask", maskFile.OpenReadStream, cancellationToken);
            if (!outcome.Succeeded)
            {
                return ApiProblems.Invalid("mask", outcome.Refusal ?? "The mask could not be read.");
            }
            var mask = outcome.Mask!;
            if ((mask.Width, mask.Height) != (sourceWidth, sourceHeight))
            {
                return ApiProblems.Invalid("mask", $"The mask is {mask.Width}×{mask.Height}; the image is {sourceWidth}×{sourceHeight}.");
            }
            maskPng = MaskFiles.Encode(mask);
        }

        MaskedContent maskedContent = MaskedContent.Original;
        if (form.MaskedContent is { Length: > 0 } content && !TryParseName(content, out maskedContent))
        {
            return ApiProblems.Invalid("maskedContent", $"maskedContent must be one of {string.Join(", ", Enum.GetNames<MaskedContent>())}.");
        }

        var model = FindModel(models, form.Model, m => m.Traits?.HasVaeEncoder == true, preferInpainting: inpaint);
        var settings = new GenerationSettings();
        var (width, height) = (sourceWidth, sourceHeight);
        if (model?.Traits is { } traits)
        {
            settings.UseModel(model);
            (width, height) = MaskFiles.WorkingSize(sourceWidth, sourceHeight, Math.Max(traits.Defaults.Width, traits.Defaults.Height), traits.VaeScaleFactor);
        }
        var request = settings.ToRequest() with
        {
            Prompt = form.Prompt!,
            NegativePrompt = form.NegativePrompt ?? "",
            Steps = form.Steps ?? settings.Steps,
            GuidanceScale = form.Guidance ?? settings.Guidance,
            Width = form.Width ?? width,
            Height = form.Height ?? height,
            Seed = form.Seed ?? settings.Seed,
            BatchSize = form.BatchSize ?? 1,
            Strength = form.Strength ?? settings.ToRequest().Strength,
        };
        if (Problems(request, model, form.Model, form.Scheduler, startsFromImage: true) is { } problem)
        {
            return problem;
        }
        if (model!.Traits?.HasVaeEncoder != true)
        {
            return ApiProblems.Invalid("model", $"The model '{model.Id}' cannot start from an image (it has no VAE encoder).");
        }
        var job = new InpaintJobRequest
        {
            Model = model.Id,
            Request = request with { Scheduler = SchedulerOf(form.Scheduler, model) },
            SourceImageId = uploaded is null ? form.SourceImageId : null,
            UploadedSource = uploaded,
            MaskPng = maskPng,
            MaskBlur = form.MaskBlur ?? 4,
            MaskedContent = maskedContent,
            OnlyMasked = form.OnlyMasked ?? false,
            Padding = form.Padding ?? 32,
            IdempotencyKey = idempotencyKey,
        };
        var submitted = inpaint
            ? await generation.SubmitInpaintAsync(user, job, cancellationToken)
            : await generation.SubmitImageToImageAsync(user, job, cancellationToken);
        return await AcceptedAsync(submitted, user, generation, cancellationToken);
    }

    /// <summary>The field problems of a request in the order a caller fixes them: limits, then the model, then the scheduler.</summary>
    private static ValidationProblem? Problems(GenerationRequest request, ModelInfo? model, string? modelName, string? scheduler, bool startsFromImage)
    {
        var problems = ApiProblems.Check(request, ApiFieldNames.V1, startsFromImage);
        if (problems.Count > 0)
        {
            return ApiProblems.Invalid(problems);
        }
        if (model is null)
        {
            return ApiProblems.Invalid("model", string.IsNullOrWhiteSpace(modelName)
                ? "No model that can do this is installed."
                : $"There is no model '{modelName}' (see GET /api/v1/models).");
        }
        if (!model.IsAvailable)
        {
            return ApiProblems.Invalid("model", $"The model '{model.Id}' cannot run: {model.Problem}");
        }
        if (scheduler is { Length: > 0 })
        {
            var allowed = GenerationSettings.SchedulersFor(model);
            if (!TryParseName<SchedulerKind>(scheduler, out var kind) || !allowed.Contains(kind))
            {
                return ApiProblems.Invalid("scheduler", $"The scheduler must be one of {string.Join(", ", allowed)} for '{model.Id}'.");
            }
        }
        return null;
    }

    private static SchedulerKind SchedulerOf(string? scheduler, ModelInfo model)
    {
        if (scheduler is { Length: > 0 } && TryParseName<SchedulerKind>(scheduler, out var kind))
        {
            return kind;
        }
        var settings = new GenerationSettings();
        settings.UseModel(model);
        return settings.Scheduler;
    }

    private static bool TryParseName<T>(string value, out T parsed) where T : struct, Enum
    {
        parsed = default;
        return value.Trim().TrimStart('-', '+') is { Length: > 0 } name && !char.IsAsciiDigit(name[0])
            && Enum.TryParse(value, ignoreCase: true, out parsed) && Enum.IsDefined(parsed);
    }

    /// <summary>The named model, or (none named) the first available one that <paramref name="fits"/>, as Create picks it.</summary>
    private static ModelInfo? FindModel(ModelHost models, string? name, Func<ModelInfo, bool> fits, bool preferInpainting = false)
    {
        var all = models.Catalog.List();
        if (!string.IsNullOrWhiteSpace(name))
        {
            return all.FirstOrDefault(m => m.Id == name);
        }
        var usable = all.Where(m => m.IsAvailable && fits(m)).ToList();
        return (preferInpainting ? usable.FirstOrDefault(m => m.Traits?.IsInpainting == true) : null) ?? usable.FirstOrDefault();
    }

    private static ValidationProblem? KeyProblem(string? idempotencyKey) =>
        idempotencyKey is { Length: > MaxIdempotencyKeyLength }
            ? ApiProblems.Invalid(IdempotencyHeader, $"The Idempotency-Key must be at most {MaxIdempotencyKeyLength} characters.")
            : null;

    private static async Task<Results<Accepted<ApiJobDto>, ValidationProblem, ProblemHttpResult>> AcceptedAsync(SubmitResult submitted, ClaimsPrincipal user,
        GenerationService generation, CancellationToken cancellationToken)
    {
        if (!submitted.Succeeded)
        {
            return ApiProblems.Refused(submitted.Errors);
        }
        var id = submitted.JobId!.Value;
        if (await generation.GetJobAsync(user, id, cancellationToken) is not { } job)
        {
            // Queued a moment ago and gone already: only a concurrent delete does this.
            return ApiProblems.Refused(["The job was removed before it could be read back."]);
        }
        return TypedResults.Accepted($"{ApiEndpoints.V1Prefix}/jobs/{id}", Dto(job));
    }

    /// <summary>The job as a view with its standing from the last read of the queue (at most a second old).</summary>
    private static JobView ViewOf(Job job, GenerationService generation)
    {
        var standing = job.IsFinished ? null : generation.StandingOf(job.Id);
        var step = job.Status == JobStatus.Completed ? job.TotalSteps : standing?.Step ?? job.Step;
        return new JobView(job.Id, job.Status, job.Model, job.Prompt, job.BatchSize, job.Width, job.Height, step, job.TotalSteps,
            job.CreatedAt, job.FinishedAt, job.Error, [.. job.Images.OrderBy(i => i.BatchIndex).Select(i => i.Id)], standing, job.GalleryId, job.OwnerId);
    }

    /// <summary>A job as the API returns it.</summary>
    public static ApiJobDto Dto(JobView job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var self = $"{ApiEndpoints.V1Prefix}/jobs/{job.Id}";
        return new ApiJobDto(job.Id, job.Status.ToString(), job.Model, job.Prompt, job.Width, job.Height, job.BatchSize, job.Step, job.TotalSteps,
            job.Status == JobStatus.Queued ? job.Standing?.Position : null, job.CreatedAt, job.FinishedAt, job.Error, job.ImageIds,
            new ApiJobLinks(self, self + "/events", [.. job.ImageIds.Select(i => $"{ApiEndpoints.V1Prefix}/images/{i}/png")]));
    }
}
