namespace T2IStudio.Generation.Pipelines;

/// <summary>
/// The one place that knows what a request may ask for. The pipeline's validation, the web app's form bounds
/// (Create, Inpaint), its server-side checks and the command line all read these; change a limit here and every
/// door moves with it.
/// </summary>
public static class GenerationLimits
{
    /// <summary>Fewest denoising steps.</summary>
    public const int MinSteps = 1;

    /// <summary>Most denoising steps.</summary>
    public const int MaxSteps = 150;

    /// <summary>Lowest guidance scale (0: no classifier-free guidance).</summary>
    public const double MinGuidance = 0;

    /// <summary>Highest guidance scale.</summary>
    public const double MaxGuidance = 30;

    /// <summary>The step a guidance field moves by.</summary>
    public const double GuidanceStep = 0.5;

    /// <summary>Fewest images in a job.</summary>
    public const int MinBatchSize = 1;

    /// <summary>Most images in one job (one UNet batch).</summary>
    public const int MaxBatchSize = 8;

    /// <summary>Longest side in pixels.</summary>
    public const int MaxSide = 2048;

    /// <summary>Longest prompt (and negative prompt) in characters.</summary>
    public const int MaxPromptLength = 2000;

    /// <summary>Why a prompt with a NUL character is refused (PostgreSQL cannot store one in text).</summary>
    public const string NulMessage = "Prompts cannot contain the NUL character (U+0000).";

    /// <summary>Whether <paramref name="text"/> holds a NUL character.</summary>
    public static bool HasNul(string? text) => text is not null && text.Contains('\0', StringComparison.Ordinal);

    /// <summary>Lowest denoising strength for image-to-image and inpainting.</summary>
    public const double MinStrength = 0;

    /// <summary>Highest denoising strength (1: the source only shapes the mask).</summary>
    public const double MaxStrength = 1;

    /// <summary>Widest mask blur in pixels.</summary>
    public const int MaxMaskBlur = 64;

    /// <summary>Most context padding around the masked area in pixels ("Only masked").</summary>
    public const int MaxPadding = 256;

    /// <summary>Clamps a remembered or reused step count into range.</summary>
    public static int ClampSteps(int steps) => Math.Clamp(steps, MinSteps, MaxSteps);

    /// <summary>Clamps a remembered or reused guidance scale into range (NaN becomes the lowest).</summary>
    public static double ClampGuidance(double guidance) => double.IsNaN(guidance) ? MinGuidance : Math.Clamp(guidance, MinGuidance, MaxGuidance);

    /// <summary>Clamps a remembered or reused batch size into range.</summary>
    public static int ClampBatchSize(int batchSize) => Math.Clamp(batchSize, MinBatchSize, MaxBatchSize);
}
