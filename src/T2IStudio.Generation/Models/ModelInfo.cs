using Microsoft.ML.OnnxRuntime.Tensors;
using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Generation.Models;

/// <summary>The model line a folder belongs to, from its text encoders and UNet inputs.</summary>
public enum ModelFamily
{
    /// <summary>768-wide CLIP text (SD 1.x).</summary>
    StableDiffusion1,

    /// <summary>1024-wide OpenCLIP text (SD 2.x, SD-Turbo).</summary>
    StableDiffusion2,

    /// <summary>
    /// SDXL (base, Turbo, inpainting): two text encoders (<c>text_encoder</c> + <c>text_encoder_2</c>, each with its
    /// tokenizer) whose penultimate hidden states are concatenated, and a UNet that also takes the pooled
    /// <c>text_embeds</c> and the size conditioning <c>time_ids</c>.
    /// </summary>
    StableDiffusionXL,

    /// <summary>Another width: the embedded model and other small models in the same layout.</summary>
    Custom,
}

/// <summary>What the engine learned about a model folder from its files, so no code knows a particular model.</summary>
public sealed record ModelTraits
{
    /// <summary>The family, from the text width.</summary>
    public required ModelFamily Family { get; init; }

    /// <summary>Width of the hidden states the UNet reads (for SDXL, both encoders' widths together).</summary>
    public required int TextWidth { get; init; }

    /// <summary>SDXL: what the second text encoder and the UNet's extra inputs look like; null for other families.</summary>
    public XlConditioning? Xl { get; init; }

    /// <summary>
    /// Most 77-token chunks a prompt may use: 1 when the UNet fixes the text sequence at 77, otherwise long
    /// prompts are encoded chunk by chunk and concatenated along the sequence (A1111), up to this many.
    /// </summary>
    public int MaxPromptChunks { get; init; } = 1;

    /// <summary>The VAE's config sets <c>force_upcast</c>: the decoder must not run in fp16 (SDXL's VAE overflows there).</summary>
    public bool VaeForceUpcast { get; init; }

    /// <summary>True when the VAE decoder graph itself is fp16 (with <see cref="VaeForceUpcast"/> it is loaded as fp32).</summary>
    public bool IsFloat16Vae { get; init; }

    /// <summary>True when the VAE encoder graph is fp16 (with <see cref="VaeForceUpcast"/> it is loaded as fp32).</summary>
    public bool IsFloat16VaeEncoder { get; init; }

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

/// <summary>What an SDXL folder's second text encoder and UNet extras are, read from the graphs and configs.</summary>
public sealed record XlConditioning
{
    /// <summary>Width of <c>text_encoder</c>'s hidden states (768 for CLIP ViT-L).</summary>
    public required int FirstTextWidth { get; init; }

    /// <summary>Width of <c>text_encoder_2</c>'s hidden states (1280 for OpenCLIP bigG).</summary>
    public required int SecondTextWidth { get; init; }

    /// <summary>Width of the pooled <c>text_embeds</c> (1280).</summary>
    public required int PooledWidth { get; init; }

    /// <summary>Length of <c>time_ids</c>: 6 = original size, crop top-left, target size.</summary>
    public required int TimeIdsLength { get; init; }

    /// <summary>
    /// <c>force_zeros_for_empty_prompt</c> from model_index.json (true for SDXL base): an empty negative prompt
    /// conditions on zeros rather than on the encoding of "".
    /// </summary>
    public required bool ForceZerosForEmptyPrompt { get; init; }
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
        : $"{(Traits.Family == ModelFamily.StableDiffusionXL ? "SDXL" : Traits.Family.ToString())}{(Traits.IsInpainting ? " inpainting" : "")}{(Traits.IsLcm ? " LCM" : "")}, " +
          $"{Scheduler!.PredictionType switch { PredictionType.VPrediction => "v-prediction", _ => "epsilon" }}" +
          $"{(Traits.IsFloat16 ? ", fp16" : "")}" +
          $"{(Scheduler.TimestepSpacing == TimestepSpacing.Trailing ? ", trailing timesteps" : "")}" +
          $"{(Traits.VaeForceUpcast && Traits.IsFloat16Vae ? ", fp16 VAE run in fp32 (force_upcast)" : "")}";
}
