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

    /// <summary>Inpainting: what the masked area started from.</summary>
    public MaskedContent? MaskedContent { get; init; }

    /// <summary>Inpainting: only the padded area around the mask was worked on.</summary>
    public bool? OnlyMasked { get; init; }

    /// <summary>Inpainting: pixels around the mask in "only masked" mode.</summary>
    public int? Padding { get; init; }

    /// <summary>The inpainting options this describes, with <paramref name="mask"/>; null for a text-to-image run.</summary>
    public InpaintOptions? ToInpaintOptions(GrayMask mask) => MaskBlur is null && MaskedContent is null ? null : new InpaintOptions
    {
        Mask = mask,
        MaskBlur = MaskBlur ?? 4,
        MaskedContent = MaskedContent ?? Pipelines.MaskedContent.Original,
        OnlyMasked = OnlyMasked ?? false,
        Padding = Padding ?? 32,
    };

    /// <summary>Images in the run (a queued job); absent for one stored image.</summary>
    public int? BatchSize { get; init; }

    /// <summary>
    /// The hires fix the run made, if any. <see cref="Width"/> × <see cref="Height"/> stay the first pass's size (as
    /// A1111's "Size"); the image is that times <see cref="HiresOptions.Scale"/>.
    /// </summary>
    public HiresOptions? Hires { get; init; }

    /// <summary>
    /// An upscale of an image: the upscaler and factor. Everything else is the source image's own record (its
    /// prompt, seed and size), so "Reuse parameters" brings back what made the source.
    /// </summary>
    public UpscaleRecord? Upscale { get; init; }

    /// <summary>The style applied on Create, if any: <see cref="Prompt"/> and <see cref="NegativePrompt"/> are its expansion.</summary>
    public StyleUse? Style { get; init; }

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

/// <summary>An upscale: the upscaler that ran and how many times larger each side came out.</summary>
public sealed record UpscaleRecord
{
    /// <summary>The upscaler's id.</summary>
    public required string Upscaler { get; init; }

    /// <summary>The factor on each side (2 or 4 from the lightbox and the command line).</summary>
    public double Scale { get; init; }

    /// <summary>The source image's model hash, kept in the upscaled image's parameters; null when unknown.</summary>
    public string? SourceModelHash { get; init; }
}

/// <summary>
/// A style applied to a run: its name (written to the PNG's parameters as "Style") and what the person typed
/// before the style expanded it, so "Reuse parameters" brings back the style and the person's own words.
/// </summary>
public sealed record StyleUse
{
    /// <summary>The style's name when it was applied.</summary>
    public required string Name { get; init; }

    /// <summary>The style's id, to pick it again while it exists.</summary>
    public Guid? Id { get; init; }

    /// <summary>The person's own prompt, before the style.</summary>
    public string Prompt { get; init; } = "";

    /// <summary>The person's own negative prompt, before the style.</summary>
    public string NegativePrompt { get; init; } = "";
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
            MaskedContent = inpaint?.MaskedContent,
            OnlyMasked = inpaint?.OnlyMasked,
            Padding = inpaint is { OnlyMasked: true } ? inpaint.Padding : null,
        };
    }

    /// <summary>A1111's <c>parameters</c> text for a stored request.</summary>
    public static string ParametersText(StoredRequest stored, string? modelHash)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var sampler = SchedulerFactory.DisplayName(stored.Scheduler);
        var settings = GenerationParameters.StandardSettings(stored.Steps, sampler, stored.GuidanceScale, stored.Seed,
            stored.Width, stored.Height, string.IsNullOrEmpty(modelHash) ? null : modelHash, stored.Model, stored.Hires?.Strength ?? stored.Strength, stored.MaskBlur);
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        if (stored.Hires is { } hires)
        {
            // A1111's keys and order: "Denoising strength" (above), then the factor and the upscaler's name.
            settings = [.. settings,
                new(HiresUpscaleKey, hires.Scale.ToString("0.###", inv)),
                new(HiresUpscalerKey, hires.Upscaler ?? HiresOptions.LanczosName)];
        }
        if (stored.Style is { } style)
        {
            settings = [.. settings, new("Style", style.Name)];
        }
        if (stored.Upscale is { } upscale)
        {
            // A1111's Extras tab appends these to the source's own parameters.
            settings = [.. settings,
                new(PostprocessUpscaleByKey, upscale.Scale.ToString("0.###", inv)),
                new(PostprocessUpscalerKey, upscale.Upscaler)];
        }
        return new GenerationParameters
        {
            Prompt = stored.Prompt,
            NegativePrompt = stored.NegativePrompt,
            Settings = settings,
        }.Format();
    }

    /// <summary>A1111's key for the hires fix's factor.</summary>
    public const string HiresUpscaleKey = "Hires upscale";

    /// <summary>A1111's key for the hires fix's upscaler ("Lanczos" for a plain resize).</summary>
    public const string HiresUpscalerKey = "Hires upscaler";

    /// <summary>A1111's key for the second pass's strength (also image-to-image's).</summary>
    public const string DenoisingStrengthKey = "Denoising strength";

    /// <summary>A1111's Extras key for an upscale's factor.</summary>
    public const string PostprocessUpscaleByKey = "Postprocess upscale by";

    /// <summary>A1111's Extras key for an upscale's upscaler.</summary>
    public const string PostprocessUpscalerKey = "Postprocess upscaler";

    /// <summary>
    /// The hires fix A1111 text records (its <c>Hires upscale</c>, <c>Hires upscaler</c> and <c>Denoising strength</c>),
    /// or null when it records none; "Lanczos" (or "None") reads back as a plain resize.
    /// </summary>
    public static HiresOptions? ReadHires(GenerationParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        if (parameters[HiresUpscaleKey] is not { } scaleText
            || !double.TryParse(scaleText, System.Globalization.NumberStyles.Float, inv, out var scale))
        {
            return null;
        }
        var strength = double.TryParse(parameters[DenoisingStrengthKey], System.Globalization.NumberStyles.Float, inv, out var s) ? s : new HiresOptions().Strength;
        var upscaler = parameters[HiresUpscalerKey] is { Length: > 0 } name && name != HiresOptions.LanczosName && name != "None" ? name : null;
        return new HiresOptions { Scale = scale, Strength = strength, Upscaler = upscaler };
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
