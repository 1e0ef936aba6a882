using T2IStudio.Generation.Models;
using T2IStudio.Generation.Noise;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Web.Jobs;

namespace T2IStudio.Web.Components.Inpaint;

/// <summary>The choices on the Inpaint form besides the prompt: which model, how much may change, and where.</summary>
public sealed record InpaintSettings
{
    /// <summary>The model that inpaints (one with a VAE encoder).</summary>
    public string ModelId { get; init; } = "";

    /// <summary>How much the painted part may change, between <see cref="GenerationLimits.MinStrength"/> and <see cref="GenerationLimits.MaxStrength"/>.</summary>
    public double Strength { get; init; } = 0.75;

    /// <summary>Feather of the mask's edge in pixels, at most <see cref="GenerationLimits.MaxMaskBlur"/>.</summary>
    public int MaskBlur { get; init; } = 4;

    /// <summary>What the painted part starts from.</summary>
    public MaskedContent MaskedContent { get; init; } = MaskedContent.Original;

    /// <summary>True to work on the masked area (plus <see cref="Padding"/>) at full resolution instead of the whole picture.</summary>
    public bool OnlyMasked { get; init; }

    /// <summary>Context pixels around the mask when <see cref="OnlyMasked"/>, at most <see cref="GenerationLimits.MaxPadding"/>.</summary>
    public int Padding { get; init; } = 32;

    /// <summary>Denoising steps.</summary>
    public int Steps { get; init; } = 25;

    /// <summary>The noise seed.</summary>
    public ulong Seed { get; init; } = Seeds.NewRandom();

    /// <summary>These settings on another model, with that model's default step count.</summary>
    public InpaintSettings WithModel(ModelInfo model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return this with { ModelId = model.Id, Steps = model.Traits?.Defaults.Steps ?? Steps };
    }

    /// <summary>
    /// The job these settings ask for: the painted mask and the prompt, at the size the model works at; guidance and
    /// scheduler are the model's own (LCM models always take the LCM scheduler). The caller adds the source.
    /// </summary>
    public InpaintJobRequest ToJobRequest(ModelTraits? traits, (int Width, int Height) workingSize, string prompt, string negativePrompt, byte[] mask) => new()
    {
        Model = ModelId,
        MaskPng = mask,
        MaskBlur = MaskBlur,
        MaskedContent = MaskedContent,
        OnlyMasked = OnlyMasked,
        Padding = Padding,
        Request = new GenerationRequest
        {
            Prompt = prompt,
            NegativePrompt = negativePrompt,
            Steps = Steps,
            GuidanceScale = traits?.Defaults.Guidance ?? 7,
            Scheduler = traits?.IsLcm == true ? SchedulerKind.Lcm : traits?.Defaults.Scheduler ?? SchedulerKind.EulerAncestral,
            Width = workingSize.Width,
            Height = workingSize.Height,
            Seed = Seed,
            Strength = Strength,
        },
    };
}
