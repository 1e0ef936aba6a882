using System.Globalization;
using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Generation.Pipelines;

/// <summary>What kind of run a job is, as batching sees it: only runs of one kind share a UNet call.</summary>
public enum BatchKind
{
    /// <summary>Text to image.</summary>
    TextToImage,

    /// <summary>Image to image (a source, no mask).</summary>
    ImageToImage,

    /// <summary>Inpainting (a source and a mask).</summary>
    Inpaint,
}

/// <summary>
/// What jobs must share to be denoised in the same UNet call (cross-user batching): the model, the latent size,
/// the sampler and its step count (so every row is at the same timestep), the kind of run and, for runs that start
/// from an image, the strength and what the masked area starts from (so every row starts at the same step), and
/// whether guidance is on (guided rows run twice). Prompts, negative prompts, seeds, guidance scales and image
/// counts may differ. Hires fixes and upscales never batch (<see cref="Of"/> answers null).
/// </summary>
/// <param name="Model">The model id.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Scheduler">The sampler.</param>
/// <param name="Steps">Steps asked for.</param>
/// <param name="Kind">Text to image, image to image or inpainting.</param>
/// <param name="Strength">Denoising strength for runs from an image; null for text to image.</param>
/// <param name="MaskedContent">What an inpainting run's masked area starts from; null otherwise.</param>
/// <param name="Guided">Classifier-free guidance is on (scale above 1).</param>
public sealed record BatchKey(string Model, int Width, int Height, SchedulerKind Scheduler, int Steps, BatchKind Kind, double? Strength, MaskedContent? MaskedContent, bool Guided)
{
    /// <summary>
    /// The key of a stored job's request, or null when it never batches (a hires fix, an upscale).
    /// <paramref name="hasSource"/>: the job comes with a source image (image to image, or inpainting when the
    /// stored request carries inpainting options).
    /// </summary>
    public static BatchKey? Of(StoredRequest stored, bool hasSource)
    {
        ArgumentNullException.ThrowIfNull(stored);
        if (stored.Hires is not null || stored.Upscale is not null)
        {
            return null;
        }
        var inpaint = hasSource && (stored.MaskBlur is not null || stored.MaskedContent is not null);
        var kind = !hasSource ? BatchKind.TextToImage : inpaint ? BatchKind.Inpaint : BatchKind.ImageToImage;
        return new BatchKey(
            stored.Model,
            stored.Width,
            stored.Height,
            stored.Scheduler,
            stored.Steps,
            kind,
            kind == BatchKind.TextToImage ? null : stored.Strength ?? 0.75,
            kind == BatchKind.Inpaint ? stored.MaskedContent ?? Pipelines.MaskedContent.Original : null,
            stored.GuidanceScale > 1);
    }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Model} {Width}x{Height} {Scheduler} {Steps} steps {Kind}{(Strength is { } s ? $" strength {s}" : "")}{(MaskedContent is { } m ? $" {m}" : "")}{(Guided ? " guided" : "")}");
}

/// <summary>One job's part of a batched run: its request, its own progress and its own cancellation.</summary>
/// <param name="Request">What to generate (validated like a single run).</param>
/// <param name="Inpaint">Inpainting options when the request inpaints; null otherwise.</param>
/// <param name="Progress">This job's progress and previews (previews of its own first image).</param>
/// <param name="CancellationToken">Cancels this job alone: its rows leave the batch before the next step.</param>
public sealed record BatchMember(GenerationRequest Request, InpaintOptions? Inpaint, IProgress<GenerationProgress>? Progress, CancellationToken CancellationToken);

/// <summary>How one member of a batched run ended: its images, or why not.</summary>
/// <param name="Result">Its images and seeds, as a run of its own would return them; null when it did not finish.</param>
/// <param name="Error">Why it did not finish: <see cref="OperationCanceledException"/> when its own token was cancelled, otherwise the failure.</param>
public sealed record BatchOutcome(GenerationResult? Result, Exception? Error);
