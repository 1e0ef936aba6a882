using Microsoft.ML.OnnxRuntime.Tensors;
using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Generation.Models;

/// <summary>The model line a folder belongs to, from its text encoder's width.</summary>
public enum ModelFamily
{
    /// <summary>768-wide CLIP text (SD 1.x).</summary>
    StableDiffusion1,

    /// <summary>1024-wide OpenCLIP text (SD 2.x, SD-Turbo).</summary>
    StableDiffusion2,

    /// <summary>Another width: the embedded model and other small models in the same layout.</summary>
    Custom,
}

/// <summary>What the engine learned about a model folder from its files, so no code knows a particular model.</summary>
public sealed record ModelTraits
{
    /// <summary>The family, from the text width.</summary>
    public required ModelFamily Family { get; init; }

    /// <summary>Width of the text encoder's hidden states.</summary>
    public required int TextWidth { get; init; }

    /// <summary>Latent channels the VAE decodes (4 for SD).</summary>
    public required int LatentChannels { get; init; }

    /// <summary>Channels the UNet takes: latent channels, or 2×latent + 1 for inpainting UNets.</summary>
    public required int UnetInputChannels { get; init; }

    /// <summary>Pixels per latent cell along each side (8 for SD).</summary>
    public required int VaeScaleFactor { get; init; }

    /// <summary>The VAE's latent scaling factor (0.18215 for SD 1.x).</summary>
    public required double VaeScalingFactor { get; init; }

    /// <summary>The UNet's timestep element type.</summary>
    public required TensorElementType TimestepType { get; init; }

    /// <summary>True when the UNet takes the timestep as a scalar rather than [batch].</summary>
    public required bool TimestepIsScalar { get; init; }

    /// <summary>True for fp16 UNets.</summary>
    public required bool IsFloat16 { get; init; }

    /// <summary>True for LCM UNets (a <c>timestep_cond</c> input, no classifier-free guidance).</summary>
    public required bool IsLcm { get; init; }

    /// <summary>The UNet's fixed batch size, or null when batch is free (CFG then runs as one batch of 2).</summary>
    public int? FixedUnetBatch { get; init; }

    /// <summary>The VAE encoder's output (<c>latent_sample</c> or <c>latent_parameters</c>), or null without an encoder.</summary>
    public string? VaeEncoderOutput { get; init; }

    /// <summary>Settings the model's authors recommend (model_index.json, VAE config), for UIs and the CLI.</summary>
    public ModelDefaults Defaults { get; init; } = new();

    /// <summary>True for 9-channel (2×latent + 1) inpainting UNets.</summary>
    public bool IsInpainting => UnetInputChannels == 2 * LatentChannels + 1;

    /// <summary>True when image-to-image and inpainting are possible.</summary>
    public bool HasVaeEncoder => VaeEncoderOutput is not null;
}

/// <summary>
/// Recommended generation settings: size from the VAE config's <c>sample_size</c>; steps, guidance and
/// sampler from an optional <c>t2istudio_defaults</c> object in <c>model_index.json</c>.
/// </summary>
public sealed record ModelDefaults
{
    /// <summary>Native width in pixels.</summary>
    public int Width { get; init; } = 512;

    /// <summary>Native height in pixels.</summary>
    public int Height { get; init; } = 512;

    /// <summary>Recommended steps.</summary>
    public int Steps { get; init; } = 20;

    /// <summary>Recommended guidance scale.</summary>
    public double Guidance { get; init; } = 7.0;

    /// <summary>Recommended sampler.</summary>
    public Schedulers.SchedulerKind Scheduler { get; init; } = Schedulers.SchedulerKind.EulerAncestral;
}

/// <summary>A model folder as the catalog lists it.</summary>
/// <param name="Id">The folder's name: stable, unique under a root, what requests name.</param>
/// <param name="Folder">The absolute folder path.</param>
/// <param name="IsAvailable">True when the folder is complete and consistent.</param>
/// <param name="Problem">Why it is unavailable.</param>
/// <param name="Traits">What it is, when available.</param>
/// <param name="Scheduler">Its noise schedule, when available.</param>
public sealed record ModelInfo(string Id, string Folder, bool IsAvailable, string? Problem, ModelTraits? Traits, SchedulerConfig? Scheduler)
{
    /// <summary>A one-line description for lists: family and kind, or the problem.</summary>
    public string Summary => Traits is null
        ? $"unavailable: {Problem}"
        : $"{Traits.Family}{(Traits.IsInpainting ? " inpainting" : "")}{(Traits.IsLcm ? " LCM" : "")}, " +
          $"{Scheduler!.PredictionType switch { PredictionType.VPrediction => "v-prediction", _ => "epsilon" }}" +
          $"{(Traits.IsFloat16 ? ", fp16" : "")}";
}
