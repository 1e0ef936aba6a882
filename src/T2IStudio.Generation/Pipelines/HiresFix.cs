using System.Diagnostics;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Models;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Generation.Upscaling;

namespace T2IStudio.Generation.Pipelines;

/// <summary>
/// A1111's "Hires fix": after the first pass at the request's size, each image is enlarged by <see cref="Scale"/>
/// (with an upscaler, or a Lanczos resize when <see cref="Upscaler"/> is null) and run through image-to-image at
/// the larger size with <see cref="Strength"/>, the same prompt and the image's own seed.
/// </summary>
public sealed record HiresOptions
{
    /// <summary>The smallest factor (exclusive: 1 would repaint the image at its own size).</summary>
    public const double MinScale = 1;

    /// <summary>The largest factor.</summary>
    public const double MaxScale = 4;

    /// <summary>The name A1111 writes for a plain resize, read back as "no upscaler".</summary>
    public const string LanczosName = "Lanczos";

    /// <summary>How many times larger each side comes out (1 &lt; x ≤ 4).</summary>
    public double Scale { get; init; } = 2;

    /// <summary>The second pass's denoising strength (0–1): how much of the schedule repaints the enlarged image.</summary>
    public double Strength { get; init; } = 0.35;

    /// <summary>The upscaler's id; null enlarges with Lanczos.</summary>
    public string? Upscaler { get; init; }

    /// <summary>
    /// The second pass's size for a first pass of <paramref name="width"/> × <paramref name="height"/>: each side times
    /// <see cref="Scale"/>, rounded down to a multiple of the model's VAE factor (<paramref name="multiple"/>).
    /// </summary>
    public (int Width, int Height) TargetSize(int width, int height, int multiple) =>
        (Math.Max(multiple, (int)(width * Scale) / multiple * multiple), Math.Max(multiple, (int)(height * Scale) / multiple * multiple));
}

/// <summary>Runs a hires fix as one job: first pass, upscale, second pass, with one progress count across the three.</summary>
/// <param name="model">The model both passes run on.</param>
/// <param name="upscaler">The upscaler <see cref="HiresOptions.Upscaler"/> names; null for Lanczos.</param>
public sealed class HiresFix(LoadedModel model, LoadedUpscaler? upscaler)
{
    private readonly LoadedModel _model = model ?? throw new ArgumentNullException(nameof(model));

    /// <summary>A preview every this many steps of each pass (and after each upscale); 0 turns previews off.</summary>
    public int PreviewEvery { get; init; } = 5;

    /// <summary>
    /// Every reason a hires fix of <paramref name="request"/> cannot run on <paramref name="model"/>, from the files
    /// alone; <paramref name="findUpscaler"/> looks an upscaler up by id. Empty when it can.
    /// </summary>
    public static IReadOnlyList<string> Validate(ModelInfo model, GenerationRequest request, HiresOptions hires, Func<string, UpscalerInfo?> findUpscaler)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(hires);
        ArgumentNullException.ThrowIfNull(findUpscaler);
        var errors = StableDiffusionPipeline.Validate(model, request).ToList();
        if (model.Traits is not { } traits)
        {
            return errors;
        }
        if (request.InitImage is not null)
        {
            errors.Add("Hires fix starts from text: it cannot start from an image.");
        }
        var scaleInRange = !double.IsNaN(hires.Scale) && hires.Scale > HiresOptions.MinScale && hires.Scale <= HiresOptions.MaxScale;
        if (!scaleInRange)
        {
            errors.Add($"Hires fix: Upscale by must be more than {HiresOptions.MinScale} and at most {HiresOptions.MaxScale}.");
        }
        else
        {
            var (width, height) = hires.TargetSize(request.Width, request.Height, traits.VaeScaleFactor);
            if (width > GenerationLimits.MaxSide || height > GenerationLimits.MaxSide)
            {
                errors.Add($"Hires fix: {request.Width}×{request.Height} upscaled by {hires.Scale:0.##} is {width}×{height}; the largest side is {GenerationLimits.MaxSide}.");
            }
        }
        if (double.IsNaN(hires.Strength) || hires.Strength is < GenerationLimits.MinStrength or > GenerationLimits.MaxStrength)
        {
            errors.Add($"Hires fix: Denoising strength must be between {GenerationLimits.MinStrength} and {GenerationLimits.MaxStrength}.");
        }
        if (!traits.HasVaeEncoder)
        {
            errors.Add($"Hires fix: model '{model.Id}' has no VAE encoder, so it cannot refine the enlarged image.");
        }
        if (hires.Upscaler is { } id)
        {
            if (findUpscaler(id) is not { } found)
            {
                errors.Add($"Hires fix: there is no upscaler '{id}'.");
            }
            else if (!found.IsAvailable)
            {
                errors.Add($"Hires fix: upscaler '{id}' is unavailable: {found.Problem}");
            }
            else if (scaleInRange && request.Width > 0 && request.Height > 0 && LoadedUpscaler.SizeProblem(found, request.Width, request.Height, hires.Scale) is { } tooLarge)
            {
                // The network runs whole passes: ×1.5 on a ×4 net makes a 4× image first, then resizes it down.
                errors.Add($"Hires fix: {tooLarge}");
            }
        }
        return errors;
    }

    /// <summary>
    /// The progress count of the whole job: the first pass's steps, one for each image's upscale, and each image's
    /// second-pass steps (the share of the schedule the strength runs).
    /// </summary>
    public static int TotalSteps(ModelInfo model, GenerationRequest request, HiresOptions hires)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(hires);
        var (first, second) = PassSteps(model, request, hires);
        return first + request.BatchSize * (1 + second);
    }

    private static (int First, int Second) PassSteps(ModelInfo model, GenerationRequest request, HiresOptions hires)
    {
        if (model.Scheduler is not { } config)
        {
            return (request.Steps, (int)(request.Steps * hires.Strength));
        }
        var scheduler = SchedulerFactory.Create(request.Scheduler, config);
        scheduler.SetTimesteps(request.Steps);
        var count = scheduler.Timesteps.Count;
        return (count, count - Scheduler.StartIndexForStrength(count, Math.Clamp(hires.Strength, 0, 1)));
    }

    /// <summary>
    /// Runs the first pass of <paramref name="request"/>, then enlarges and refines each image in turn. Progress counts
    /// through all three phases (<see cref="TotalSteps"/>); cancellation takes effect in whichever phase is running.
    /// </summary>
    /// <exception cref="ArgumentException">The request or the options are invalid (the message lists every problem).</exception>
    public async Task<GenerationResult> GenerateAsync(GenerationRequest request, HiresOptions hires, IProgress<GenerationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(hires);
        var info = _model.Info;
        var pipeline = new StableDiffusionPipeline(_model) { PreviewEvery = PreviewEvery };
        var errors = Validate(info, request, hires, id => upscaler?.Info.Id == id ? upscaler.Info : null);
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(request));
        }
        var clock = Stopwatch.StartNew();
        var total = TotalSteps(info, request, hires);
        var done = 0;
        var phase = new PhaseProgress(progress, total, clock);

        var first = await pipeline.GenerateAsync(request, phase.From(done), cancellationToken);
        done += PassSteps(info, request, hires).First;
        var (width, height) = hires.TargetSize(request.Width, request.Height, _model.Traits.VaeScaleFactor);
        var images = new RgbImage[first.Images.Count];
        for (var k = 0; k < images.Length; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var enlarged = await Task.Run(() => Enlarge(first.Images[k], hires, width, height, cancellationToken), cancellationToken);
            phase.Report(++done, PreviewEvery > 0 ? enlarged : null);
            var second = await pipeline.GenerateAsync(SecondPass(request, hires, first.Seeds[k], enlarged), phase.From(done), cancellationToken);
            done += PassSteps(info, request, hires).Second;
            images[k] = second.Images[0];
        }
        return new GenerationResult(images, first.Seeds, clock.Elapsed, first.Device);
    }

    /// <summary>The image-to-image request that refines image <paramref name="seed"/>'s enlargement <paramref name="enlarged"/>.</summary>
    public static GenerationRequest SecondPass(GenerationRequest request, HiresOptions hires, ulong seed, RgbImage enlarged)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(hires);
        ArgumentNullException.ThrowIfNull(enlarged);
        return request with
        {
            Width = enlarged.Width,
            Height = enlarged.Height,
            Seed = seed,
            BatchSize = 1,
            InitImage = enlarged,
            Strength = hires.Strength,
        };
    }

    /// <summary>The first-pass image at <paramref name="width"/> × <paramref name="height"/>: the upscaler's output, or Lanczos.</summary>
    private RgbImage Enlarge(RgbImage image, HiresOptions hires, int width, int height, CancellationToken cancellationToken)
    {
        var enlarged = upscaler is null ? image : upscaler.Upscale(image, hires.Scale, progress: null, cancellationToken);
        return ImageOps.Resize(enlarged, width, height);
    }

    // The pipeline counts each pass from 1; the job counts on from where the earlier phases left off.
    private sealed class PhaseProgress(IProgress<GenerationProgress>? progress, int total, Stopwatch clock)
    {
        public Forward? From(int offset) => progress is null ? null
            : new Forward(p => progress.Report(new GenerationProgress(Math.Min(offset + p.Step, total), total, clock.Elapsed, p.Preview)));

        public void Report(int step, RgbImage? preview) =>
            progress?.Report(new GenerationProgress(Math.Min(step, total), total, clock.Elapsed, preview));
    }

    private sealed class Forward(Action<GenerationProgress> report) : IProgress<GenerationProgress>
    {
        public void Report(GenerationProgress value) => report(value);
    }
}
