using System.ComponentModel.DataAnnotations;
using T2IStudio.Generation.Onnx;

namespace T2IStudio.Generation;

/// <summary>The <c>Generation</c> configuration section.</summary>
public sealed record GenerationOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string Section = "Generation";

    /// <summary>Folders that hold model folders (or are one); relative paths are under the content root. Empty means <c>models</c>.</summary>
    public string[] ModelRoots { get; init; } = [];

    /// <summary><c>auto</c> (CUDA when it loads, else CPU), <c>cuda</c> or <c>cpu</c>.</summary>
    public DevicePreference Device { get; init; } = DevicePreference.Auto;

    /// <summary>Which GPU when more than one.</summary>
    [Range(0, 63, ErrorMessage = "Generation:DeviceId must be between 0 and 63.")]
    public int DeviceId { get; init; }

    /// <summary>
    /// Sessions per model graph with free dimensions fixed to the sizes in use (most recently used kept); 0
    /// runs every size on one session. Unset: 2 on CUDA, 0 on the CPU. Each one holds its own copy of the weights.
    /// </summary>
    [Range(0, 8, ErrorMessage = "Generation:ShapeSessions must be between 0 and 8.")]
    public int? ShapeSessions { get; init; }

    /// <summary>
    /// Keep the latents on the device through the denoising loop (guidance and sampler steps as small graphs
    /// there). Unset: on for CUDA, off for the CPU.
    /// </summary>
    public bool? ResidentLatents { get; init; }

    /// <summary>Minutes a loaded model may sit unused before its sessions are released; 0 keeps models loaded.</summary>
    [Range(0, 10_080, ErrorMessage = "Generation:UnloadAfterMinutes must be between 0 and 10080.")]
    public int UnloadAfterMinutes { get; init; } = 30;

    /// <summary>
    /// Side in pixels of the input tiles upscalers run on (neighbours share 32 px, blended without seams):
    /// smaller uses less device memory, larger wastes less on overlaps. A graph with a fixed input size uses its own.
    /// </summary>
    [Range(64, 2048, ErrorMessage = "Generation:UpscaleTileSize must be between 64 and 2048.")]
    public int UpscaleTileSize { get; init; } = Upscaling.LoadedUpscaler.DefaultTileSize;

    /// <summary>
    /// Images per UNet call when waiting jobs that share a model, size, sampler and step count are batched together
    /// (cross-user batching). Unset: by device (<see cref="DefaultMaxBatch"/>). 1 switches batching off, for
    /// byte-exact reruns where the execution provider's results depend on the batch size.
    /// </summary>
    [Range(1, 64, ErrorMessage = "Generation:MaxBatch must be between 1 and 64.")]
    public int? MaxBatch { get; init; }

    /// <summary>The images per UNet call batching aims for on a device when <see cref="MaxBatch"/> is unset.</summary>
    public static int DefaultMaxBatch(bool cuda) => cuda ? 8 : 1;

    /// <summary>Model to load and warm up at start (its id), or null for none.</summary>
    public string? WarmUpModel { get; init; }

    /// <summary>The roots actually searched.</summary>
    public IReadOnlyList<string> EffectiveModelRoots => ModelRoots.Length == 0 ? ["models"] : ModelRoots;
}
