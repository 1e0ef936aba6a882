using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Generation.Pipelines;

/// <summary>What to generate. Validated by <see cref="StableDiffusionPipeline"/> before any work starts.</summary>
public sealed record GenerationRequest
{
    /// <summary>The prompt, with A1111 weighting syntax.</summary>
    public required string Prompt { get; init; }

    /// <summary>What to steer away from; empty means the encoded empty string.</summary>
    public string NegativePrompt { get; init; } = "";

    /// <summary>Denoising steps (1–150).</summary>
    public int Steps { get; init; } = 20;

    /// <summary>Classifier-free guidance scale; ≤ 1 runs the conditional branch alone.</summary>
    public double GuidanceScale { get; init; } = 7.0;

    /// <summary>Output width in pixels, a multiple of the model's VAE scale factor.</summary>
    public int Width { get; init; } = 512;

    /// <summary>Output height in pixels, a multiple of the model's VAE scale factor.</summary>
    public int Height { get; init; } = 512;

    /// <summary>The seed; image k of the batch uses seed + k.</summary>
    public ulong Seed { get; init; }

    /// <summary>Images denoised together in one UNet batch (1–8).</summary>
    public int BatchSize { get; init; } = 1;

    /// <summary>The sampler.</summary>
    public SchedulerKind Scheduler { get; init; } = SchedulerKind.EulerAncestral;

    /// <summary>Image-to-image / inpainting source, already at <see cref="Width"/> × <see cref="Height"/>.</summary>
    public RgbImage? InitImage { get; init; }

    /// <summary>How much of the schedule to run on <see cref="InitImage"/> (0 returns it, 1 ignores it).</summary>
    public double Strength { get; init; } = 0.75;
}

/// <summary>Step-by-step progress with an occasional cheap preview.</summary>
/// <param name="Step">Steps finished (1-based).</param>
/// <param name="TotalSteps">Steps this run will take.</param>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Preview">A latent-resolution preview of the first image, every few steps; null otherwise.</param>
public sealed record GenerationProgress(int Step, int TotalSteps, TimeSpan Elapsed, RgbImage? Preview);

/// <summary>The images of a run, in batch order, with the seed of each.</summary>
/// <param name="Images">One image per batch entry.</param>
/// <param name="Seeds">The seed of each image.</param>
/// <param name="Elapsed">Wall time of the run.</param>
/// <param name="Device">Where it ran.</param>
public sealed record GenerationResult(IReadOnlyList<RgbImage> Images, IReadOnlyList<ulong> Seeds, TimeSpan Elapsed, string Device);
