using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;

namespace T2IStudio.Web.Api;

/// <summary>A model the studio can run, with what a request may choose for it.</summary>
/// <param name="Id">What requests name as <c>model</c>.</param>
/// <param name="Available">False when its folder is incomplete (then <paramref name="Problem"/> says why).</param>
/// <param name="Problem">Why it cannot run, when it cannot.</param>
/// <param name="Summary">Family and kind in a few words.</param>
/// <param name="CanStartFromImage">Whether it does img2img and inpaint (it has a VAE encoder).</param>
/// <param name="IsInpainting">Whether it is a dedicated inpainting model.</param>
/// <param name="Schedulers">The <c>scheduler</c> names it accepts.</param>
/// <param name="DefaultScheduler">The scheduler used when a request names none.</param>
/// <param name="DefaultWidth">Its native width (the default <c>width</c>).</param>
/// <param name="DefaultHeight">Its native height (the default <c>height</c>).</param>
/// <param name="DefaultSteps">The default <c>steps</c>.</param>
/// <param name="DefaultGuidance">The default <c>guidance</c>.</param>
/// <param name="Sizes">Sides the Create page offers for it (any multiple of 8 within the limits is accepted).</param>
public sealed record ApiModelDto(string Id, bool Available, string? Problem, string Summary, bool CanStartFromImage, bool IsInpainting,
    IReadOnlyList<string> Schedulers, string? DefaultScheduler, int? DefaultWidth, int? DefaultHeight, int? DefaultSteps, double? DefaultGuidance,
    IReadOnlyList<int> Sizes);

/// <summary>A text-to-image job to queue. Fields left out take the model's defaults, as the Create page does.</summary>
public sealed record Txt2ImgRequest
{
    /// <summary>The model id (see <c>GET /api/v1/models</c>); the first available model when left out.</summary>
    public string? Model { get; init; }

    /// <summary>What to generate (weighting syntax allowed).</summary>
    public string? Prompt { get; init; }

    /// <summary>What to steer away from.</summary>
    public string? NegativePrompt { get; init; }

    /// <summary>Denoising steps.</summary>
    public int? Steps { get; init; }

    /// <summary>Guidance scale.</summary>
    public double? Guidance { get; init; }

    /// <summary>Width in pixels, a multiple of 8.</summary>
    public int? Width { get; init; }

    /// <summary>Height in pixels, a multiple of 8.</summary>
    public int? Height { get; init; }

    /// <summary>The seed; null or left out draws a random one.</summary>
    public ulong? Seed { get; init; }

    /// <summary>Images in the job.</summary>
    public int? BatchSize { get; init; }

    /// <summary>The sampler: EulerAncestral, Euler, Ddim, DpmPlusPlus2M, DpmPlusPlus2MKarras, Plms or Lcm.</summary>
    public string? Scheduler { get; init; }

    /// <summary>A gallery to put the images in too; the caller must be allowed to add there.</summary>
    public Guid? GalleryId { get; init; }

    /// <summary>
    /// Hires fix: generate at width × height, enlarge by <c>scale</c> (more than 1, at most 4) with <c>upscaler</c> (an
    /// upscaler id; null for a Lanczos resize), then image-to-image at the larger size with <c>strength</c> (0–1). Omit
    /// for a plain run.
    /// </summary>
    public T2IStudio.Generation.Pipelines.HiresOptions? Hires { get; init; }
}

/// <summary>
/// An img2img or inpaint job as multipart/form-data: the source as the file part <c>image</c> or one of the caller's
/// images as <c>sourceImageId</c>; for inpaint the file part <c>mask</c> (white repaints) at the source's size.
/// </summary>
public sealed class ImageJobForm
{
    /// <summary>The source picture (PNG, JPEG or WebP).</summary>
    [FromForm(Name = "image")]
    public IFormFile? Image { get; set; }

    /// <summary>Or one of the caller's images to start from.</summary>
    [FromForm(Name = "sourceImageId")]
    public Guid? SourceImageId { get; set; }

    /// <summary>Inpaint only: the mask (white repaints, black keeps), at the source's size.</summary>
    [FromForm(Name = "mask")]
    public IFormFile? Mask { get; set; }

    /// <summary>The model id; the first available model that can start from an image when left out.</summary>
    [FromForm(Name = "model")]
    public string? Model { get; set; }

    /// <summary>What to generate.</summary>
    [FromForm(Name = "prompt")]
    public string? Prompt { get; set; }

    /// <summary>What to steer away from.</summary>
    [FromForm(Name = "negativePrompt")]
    public string? NegativePrompt { get; set; }

    /// <summary>Denoising steps.</summary>
    [FromForm(Name = "steps")]
    public int? Steps { get; set; }

    /// <summary>Guidance scale.</summary>
    [FromForm(Name = "guidance")]
    public double? Guidance { get; set; }

    /// <summary>Working width; the source's size (fitted to the model) when left out.</summary>
    [FromForm(Name = "width")]
    public int? Width { get; set; }

    /// <summary>Working height; the source's size (fitted to the model) when left out.</summary>
    [FromForm(Name = "height")]
    public int? Height { get; set; }

    /// <summary>The seed; left out draws a random one.</summary>
    [FromForm(Name = "seed")]
    public ulong? Seed { get; set; }

    /// <summary>Images in the job.</summary>
    [FromForm(Name = "batchSize")]
    public int? BatchSize { get; set; }

    /// <summary>The sampler name.</summary>
    [FromForm(Name = "scheduler")]
    public string? Scheduler { get; set; }

    /// <summary>How much may change, 0–1 (default 0.75).</summary>
    [FromForm(Name = "strength")]
    public double? Strength { get; set; }

    /// <summary>Inpaint: feather radius of the mask's edge in pixels, 0–64 (default 4).</summary>
    [FromForm(Name = "maskBlur")]
    public int? MaskBlur { get; set; }

    /// <summary>Inpaint: what the masked area starts from: Original, Fill or LatentNoise.</summary>
    [FromForm(Name = "maskedContent")]
    public string? MaskedContent { get; set; }

    /// <summary>Inpaint: work only on the padded area around the mask.</summary>
    [FromForm(Name = "onlyMasked")]
    public bool? OnlyMasked { get; set; }

    /// <summary>Inpaint: pixels around the mask in "only masked" mode, 0–256 (default 32).</summary>
    [FromForm(Name = "padding")]
    public int? Padding { get; set; }
}

/// <summary>Links of a job.</summary>
/// <param name="Self">The job.</param>
/// <param name="Events">Its live events (server-sent events).</param>
/// <param name="Images">Its images' PNGs, in batch order.</param>
public sealed record ApiJobLinks(string Self, string Events, IReadOnlyList<string> Images);

/// <summary>A job as the API returns it.</summary>
/// <param name="Id">The job.</param>
/// <param name="Status">Queued, Running, Completed, Failed or Canceled.</param>
/// <param name="Model">The model id.</param>
/// <param name="Prompt">The prompt.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="BatchSize">Images it makes.</param>
/// <param name="Step">Steps finished.</param>
/// <param name="TotalSteps">Steps it takes.</param>
/// <param name="Position">Jobs ahead of it while it waits (0: next); null otherwise.</param>
/// <param name="CreatedAt">Submitted.</param>
/// <param name="FinishedAt">Finished, if it has.</param>
/// <param name="Error">Why it failed.</param>
/// <param name="ImageIds">Its images, in batch order.</param>
/// <param name="Links">Where to find it, its events and its images.</param>
public sealed record ApiJobDto(Guid Id, string Status, string Model, string Prompt, int Width, int Height, int BatchSize, int Step, int TotalSteps,
    int? Position, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt, string? Error, IReadOnlyList<Guid> ImageIds, ApiJobLinks Links);

/// <summary>A page of the caller's jobs, newest first.</summary>
/// <param name="Items">The jobs.</param>
/// <param name="NextCursor">Pass as <c>cursor</c> for the next page; null on the last.</param>
public sealed record ApiJobPage(IReadOnlyList<ApiJobDto> Items, string? NextCursor);

/// <summary>What a cancel did.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Outcome">Canceled (it was waiting), Stopping (it stops before its next step) or AlreadyFinished.</param>
public sealed record ApiCancelDto(Guid JobId, string Outcome);

/// <summary>
/// The data of one server-sent event of a job. <c>queued</c> and <c>position</c> carry <see cref="Position"/>;
/// <c>step</c> carries <see cref="Step"/>, <see cref="TotalSteps"/> and now and then <see cref="Preview"/>;
/// <c>completed</c> carries <see cref="ImageIds"/>; <c>failed</c> carries <see cref="Error"/>.
/// </summary>
/// <param name="JobId">The job.</param>
/// <param name="Status">Queued, Running, Completed, Failed or Canceled.</param>
/// <param name="Position">Jobs ahead of it while it waits.</param>
/// <param name="Step">Steps finished.</param>
/// <param name="TotalSteps">Steps in the run.</param>
/// <param name="Preview">A small JPEG of the first image as it forms, as a <c>data:image/jpeg;base64,…</c> URL.</param>
/// <param name="ImageIds">The finished images.</param>
/// <param name="Error">Why it failed.</param>
/// <remarks>Fields an event does not carry are left out of its JSON.</remarks>
public sealed record ApiJobEventData(Guid JobId, string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Position = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Step = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? TotalSteps = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Preview = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<Guid>? ImageIds = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error = null);
