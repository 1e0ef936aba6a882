using System.Text.Json;
using System.Text.Json.Serialization;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Generation.Pipelines;

/// <summary>The full request as stored in the <c>t2istudio</c> PNG chunk (version 1).</summary>
public sealed record StoredRequest
{
    /// <summary>Format version of this record.</summary>
    public int Version { get; init; } = 1;

    /// <summary>The model id.</summary>
    public required string Model { get; init; }

    /// <summary>The prompt.</summary>
    public required string Prompt { get; init; }

    /// <summary>The negative prompt.</summary>
    public string NegativePrompt { get; init; } = "";

    /// <summary>Steps.</summary>
    public int Steps { get; init; }

    /// <summary>Guidance scale.</summary>
    public double GuidanceScale { get; init; }

    /// <summary>Width in pixels.</summary>
    public int Width { get; init; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; init; }

    /// <summary>This image's seed.</summary>
    public ulong Seed { get; init; }

    /// <summary>The sampler.</summary>
    public SchedulerKind Scheduler { get; init; }

    /// <summary>Image-to-image strength, when the run started from an image.</summary>
    public double? Strength { get; init; }

    /// <summary>The mask blur, when the run inpainted.</summary>
    public int? MaskBlur { get; init; }

    /// <summary>Images in the run (a queued job); absent for one stored image.</summary>
    public int? BatchSize { get; init; }

    /// <summary>The text-to-image request this describes (seed and batch as stored).</summary>
    public GenerationRequest ToRequest() => new()
    {
        Prompt = Prompt,
        NegativePrompt = NegativePrompt,
        Steps = Steps,
        GuidanceScale = GuidanceScale,
        Width = Width,
        Height = Height,
        Seed = Seed,
        BatchSize = BatchSize ?? 1,
        Scheduler = Scheduler,
        Strength = Strength ?? 0.75,
    };
}

/// <summary>Builds and reads the metadata written into every generated PNG.</summary>
public static class GenerationMetadata
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The stored form of image <paramref name="index"/> of a run.</summary>
    public static StoredRequest Describe(GenerationRequest request, string modelId, int index, InpaintOptions? inpaint = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new StoredRequest
        {
            Model = modelId,
            Prompt = request.Prompt,
            NegativePrompt = request.NegativePrompt ?? "",
            Steps = request.Steps,
            GuidanceScale = request.GuidanceScale,
            Width = request.InitImage?.Width ?? request.Width,
            Height = request.InitImage?.Height ?? request.Height,
            Seed = request.Seed + (ulong)index,
            Scheduler = request.Scheduler,
            Strength = request.InitImage is null ? null : request.Strength,
            MaskBlur = inpaint?.MaskBlur,
        };
    }

    /// <summary>A1111's <c>parameters</c> text for a stored request.</summary>
    public static string ParametersText(StoredRequest stored, string? modelHash)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var sampler = SchedulerFactory.DisplayName(stored.Scheduler);
        return new GenerationParameters
        {
            Prompt = stored.Prompt,
            NegativePrompt = stored.NegativePrompt,
            Settings = GenerationParameters.StandardSettings(stored.Steps, sampler, stored.GuidanceScale, stored.Seed,
                stored.Width, stored.Height, modelHash, stored.Model, stored.Strength, stored.MaskBlur),
        }.Format();
    }

    private static readonly JsonSerializerOptions IndentedJson = new(Json) { WriteIndented = true };

    /// <summary>The PNG of <paramref name="image"/> with both metadata chunks.</summary>
    public static byte[] EncodePng(RgbImage image, StoredRequest stored, string? modelHash) =>
        PngFiles.Encode(image, ParametersText(stored, modelHash), ToJson(stored));

    /// <summary>The <c>t2istudio</c> JSON of a stored request (enum names, no nulls).</summary>
    public static string ToJson(StoredRequest stored, bool indented = false) =>
        JsonSerializer.Serialize(stored, indented ? IndentedJson : Json);

    /// <summary>Reads the <c>t2istudio</c> JSON back, or null when absent or unreadable.</summary>
    public static StoredRequest? ReadStoredRequest(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<StoredRequest>(json, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
