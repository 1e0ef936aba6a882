using System.Text.Json;
using System.Text.Json.Serialization;

namespace T2IStudio.Web.Api;

/// <summary>
/// The fields <c>txt2img</c> and <c>img2img</c> share, under AUTOMATIC1111's snake_case names. An absent field takes
/// the model's default (as the Create page does), not A1111's fixed 512×512 and 50 steps. Every other field an A1111
/// client sends (<c>enable_hr</c>, <c>restore_faces</c>, <c>tiling</c>, <c>script_args</c>, <c>alwayson_scripts</c>,
/// <c>send_images</c>, <c>save_images</c>, …) is accepted, echoed in <c>parameters</c> and otherwise ignored.
/// </summary>
public record A1111GenerationRequest
{
    /// <summary>The prompt, with A1111 weighting syntax.</summary>
    [JsonPropertyName("prompt")]
    public string? Prompt { get; init; }

    /// <summary>What to steer away from.</summary>
    [JsonPropertyName("negative_prompt")]
    public string? NegativePrompt { get; init; }

    /// <summary>The seed of the first image (image k gets seed + k); -1 or absent picks one at random.</summary>
    [JsonPropertyName("seed")]
    public long? Seed { get; init; }

    /// <summary>Accepted and ignored (T2I Studio has no variation seeds).</summary>
    [JsonPropertyName("subseed")]
    public long? Subseed { get; init; }

    /// <summary>An A1111 sampler name ("DPM++ 2M Karras", "DPM++ 2M", "Euler a", "Euler", "DDIM", "PLMS", "LCM") or one of its aliases.</summary>
    [JsonPropertyName("sampler_name")]
    public string? SamplerName { get; init; }

    /// <summary>The older name of <see cref="SamplerName"/>; used when that is absent.</summary>
    [JsonPropertyName("sampler_index")]
    public string? SamplerIndex { get; init; }

    /// <summary>A1111 1.9+'s schedule type: "Automatic" (the sampler's own), "Uniform", or "Karras" (with DPM++ 2M).</summary>
    [JsonPropertyName("scheduler")]
    public string? Scheduler { get; init; }

    /// <summary>Images per batch (1–8).</summary>
    [JsonPropertyName("batch_size")]
    public int? BatchSize { get; init; }

    /// <summary>Batches; <c>n_iter × batch_size</c> images in all.</summary>
    [JsonPropertyName("n_iter")]
    public int? NIter { get; init; }

    /// <summary>Denoising steps.</summary>
    [JsonPropertyName("steps")]
    public int? Steps { get; init; }

    /// <summary>Classifier-free guidance scale.</summary>
    [JsonPropertyName("cfg_scale")]
    public double? CfgScale { get; init; }

    /// <summary>Width in pixels (a multiple of 8).</summary>
    [JsonPropertyName("width")]
    public int? Width { get; init; }

    /// <summary>Height in pixels (a multiple of 8).</summary>
    [JsonPropertyName("height")]
    public int? Height { get; init; }

    /// <summary>img2img: how much of the picture is repainted (0–1, default 0.75). txt2img: accepted and ignored (hires fix).</summary>
    [JsonPropertyName("denoising_strength")]
    public double? DenoisingStrength { get; init; }

    /// <summary>Settings for this call only; <c>sd_model_checkpoint</c> picks the model, the rest are ignored.</summary>
    [JsonPropertyName("override_settings")]
    public Dictionary<string, JsonElement>? OverrideSettings { get; init; }

    /// <summary>Every other field the client sent: accepted, echoed, ignored.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unused { get; init; }
}

/// <summary>An A1111 <c>txt2img</c> request.</summary>
public sealed record A1111Txt2ImgRequest : A1111GenerationRequest;

/// <summary>
/// An A1111 <c>img2img</c> request: <c>init_images[0]</c> is repainted, everywhere or (with <c>mask</c>) where the mask
/// is white. Without "only masked" the picture and mask are resized to <c>width</c> × <c>height</c> first (A1111's
/// resize mode 0, "just resize"; <c>resize_mode</c> is ignored) and the result has that size; with it the picture keeps
/// its size and <c>width</c> × <c>height</c> is the working size of the area around the mask.
/// </summary>
public sealed record A1111Img2ImgRequest : A1111GenerationRequest
{
    /// <summary>The picture, base64 (a <c>data:image/…;base64,</c> URL too); only the first is used.</summary>
    [JsonPropertyName("init_images")]
    public IReadOnlyList<string>? InitImages { get; init; }

    /// <summary>
    /// The mask, base64, read as A1111's <c>create_binary_mask</c>: when it has transparency, its alpha channel (opaque
    /// repaints, transparent keeps); otherwise its grey levels (white repaints, black keeps). Resized to the picture when its size differs.
    /// </summary>
    [JsonPropertyName("mask")]
    public string? Mask { get; init; }

    /// <summary>What the masked area starts from: 0 fill (default), 1 original, 2 latent noise, 3 latent nothing (run as latent noise).</summary>
    [JsonPropertyName("inpainting_fill")]
    public int? InpaintingFill { get; init; }

    /// <summary>"Only masked": work on the area around the mask at <c>width</c> × <c>height</c> (A1111's default: true).</summary>
    [JsonPropertyName("inpaint_full_res")]
    [JsonConverter(typeof(A1111FlagConverter))]
    public bool? InpaintFullRes { get; init; }

    /// <summary>Pixels of context around the mask in "only masked" mode (default 0, as A1111).</summary>
    [JsonPropertyName("inpaint_full_res_padding")]
    public int? InpaintFullResPadding { get; init; }

    /// <summary>Feather radius of the mask's edge in pixels (default 4).</summary>
    [JsonPropertyName("mask_blur")]
    public int? MaskBlur { get; init; }

    /// <summary>1 (or true): repaint what the mask leaves black instead.</summary>
    [JsonPropertyName("inpainting_mask_invert")]
    [JsonConverter(typeof(A1111FlagConverter))]
    public bool? InpaintingMaskInvert { get; init; }
}

/// <summary>Reads an A1111 flag sent as a JSON boolean, a number (0/1) or a string ("true", "1").</summary>
public sealed class A1111FlagConverter : JsonConverter<bool?>
{
    /// <inheritdoc />
    public override bool? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        JsonTokenType.Null => null,
        JsonTokenType.Number => reader.GetDouble() != 0,
        JsonTokenType.String => reader.GetString()?.Trim().ToUpperInvariant() switch
        {
            "TRUE" or "1" or "YES" => true,
            "FALSE" or "0" or "NO" or "" or null => false,
            var other => throw new JsonException($"'{other}' is not a flag."),
        },
        _ => throw new JsonException("Expected a flag (true, false, 0 or 1)."),
    };

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, bool? value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (value is { } flag)
        {
            writer.WriteBooleanValue(flag);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}

/// <summary>What <c>txt2img</c> answers once its images are done.</summary>
/// <param name="Images">Each image's PNG (with its <c>parameters</c> text chunk), base64.</param>
/// <param name="Parameters">The request, with the values used where it left them out (the seed as sent).</param>
/// <param name="Info">A JSON string with A1111's <c>Processed.js()</c> fields (<see cref="A1111Info"/>).</param>
public sealed record A1111Txt2ImgResponse(
    [property: JsonPropertyName("images")] IReadOnlyList<string> Images,
    [property: JsonPropertyName("parameters")] A1111Txt2ImgRequest Parameters,
    [property: JsonPropertyName("info")] string Info);

/// <summary>What <c>img2img</c> answers once its images are done.</summary>
/// <param name="Images">Each image's PNG (with its <c>parameters</c> text chunk), base64.</param>
/// <param name="Parameters">The request without its pictures (as A1111 echoes it), with the values used where it left them out.</param>
/// <param name="Info">A JSON string with A1111's <c>Processed.js()</c> fields (<see cref="A1111Info"/>).</param>
public sealed record A1111Img2ImgResponse(
    [property: JsonPropertyName("images")] IReadOnlyList<string> Images,
    [property: JsonPropertyName("parameters")] A1111Img2ImgRequest Parameters,
    [property: JsonPropertyName("info")] string Info);

/// <summary>The fields of A1111's <c>Processed.js()</c>, serialised into the <c>info</c> string.</summary>
public sealed record A1111Info
{
    /// <summary>The prompt.</summary>
    [JsonPropertyName("prompt")] public required string Prompt { get; init; }

    /// <summary>The prompt of each image.</summary>
    [JsonPropertyName("all_prompts")] public required IReadOnlyList<string> AllPrompts { get; init; }

    /// <summary>The negative prompt.</summary>
    [JsonPropertyName("negative_prompt")] public required string NegativePrompt { get; init; }

    /// <summary>The negative prompt of each image.</summary>
    [JsonPropertyName("all_negative_prompts")] public required IReadOnlyList<string> AllNegativePrompts { get; init; }

    /// <summary>The first image's seed.</summary>
    [JsonPropertyName("seed")] public required ulong Seed { get; init; }

    /// <summary>Each image's seed.</summary>
    [JsonPropertyName("all_seeds")] public required IReadOnlyList<ulong> AllSeeds { get; init; }

    /// <summary>The variation seed (unused: -1).</summary>
    [JsonPropertyName("subseed")] public long Subseed { get; init; } = -1;

    /// <summary>Each image's variation seed (unused: -1).</summary>
    [JsonPropertyName("all_subseeds")] public required IReadOnlyList<long> AllSubseeds { get; init; }

    /// <summary>Variation strength (always 0).</summary>
    [JsonPropertyName("subseed_strength")] public double SubseedStrength { get; init; }

    /// <summary>Width of the images.</summary>
    [JsonPropertyName("width")] public required int Width { get; init; }

    /// <summary>Height of the images.</summary>
    [JsonPropertyName("height")] public required int Height { get; init; }

    /// <summary>The sampler, as A1111 1.9+ names it (without the schedule type).</summary>
    [JsonPropertyName("sampler_name")] public required string SamplerName { get; init; }

    /// <summary>Guidance scale.</summary>
    [JsonPropertyName("cfg_scale")] public required double CfgScale { get; init; }

    /// <summary>Steps.</summary>
    [JsonPropertyName("steps")] public required int Steps { get; init; }

    /// <summary>Images per batch.</summary>
    [JsonPropertyName("batch_size")] public required int BatchSize { get; init; }

    /// <summary>Face restoration (never).</summary>
    [JsonPropertyName("restore_faces")] public bool RestoreFaces { get; init; }

    /// <summary>The face restoration model (none).</summary>
    [JsonPropertyName("face_restoration_model")] public string? FaceRestorationModel { get; init; }

    /// <summary>The model's name (its id).</summary>
    [JsonPropertyName("sd_model_name")] public required string SdModelName { get; init; }

    /// <summary>The model's short hash (10 hex digits of the UNet's SHA-256).</summary>
    [JsonPropertyName("sd_model_hash")] public string? SdModelHash { get; init; }

    /// <summary>A separate VAE's name (none).</summary>
    [JsonPropertyName("sd_vae_name")] public string? SdVaeName { get; init; }

    /// <summary>A separate VAE's hash (none).</summary>
    [JsonPropertyName("sd_vae_hash")] public string? SdVaeHash { get; init; }

    /// <summary>Seed resize (unused: -1).</summary>
    [JsonPropertyName("seed_resize_from_w")] public int SeedResizeFromW { get; init; } = -1;

    /// <summary>Seed resize (unused: -1).</summary>
    [JsonPropertyName("seed_resize_from_h")] public int SeedResizeFromH { get; init; } = -1;

    /// <summary>The denoising strength (img2img; txt2img: as sent, else 0).</summary>
    [JsonPropertyName("denoising_strength")] public double? DenoisingStrength { get; init; }

    /// <summary>Extra infotext fields ("Schedule type", "Denoising strength", "Mask blur", …).</summary>
    [JsonPropertyName("extra_generation_params")] public required IReadOnlyDictionary<string, object> ExtraGenerationParams { get; init; }

    /// <summary>Index of the first image in <c>images</c> (no grid: 0).</summary>
    [JsonPropertyName("index_of_first_image")] public int IndexOfFirstImage { get; init; }

    /// <summary>Each image's <c>parameters</c> text, exactly as in its PNG.</summary>
    [JsonPropertyName("infotexts")] public required IReadOnlyList<string> Infotexts { get; init; }

    /// <summary>Styles applied (none).</summary>
    [JsonPropertyName("styles")] public IReadOnlyList<string> Styles { get; init; } = [];

    /// <summary>When the first job was submitted, as yyyyMMddHHmmss (UTC).</summary>
    [JsonPropertyName("job_timestamp")] public required string JobTimestamp { get; init; }

    /// <summary>CLIP skip (always 1).</summary>
    [JsonPropertyName("clip_skip")] public int ClipSkip { get; init; } = 1;

    /// <summary>Whether an inpainting UNet was given the mask and masked picture.</summary>
    [JsonPropertyName("is_using_inpainting_conditioning")] public bool IsUsingInpaintingConditioning { get; init; }
}

/// <summary>The state block of <c>progress</c>, as A1111's <c>shared.state.dict()</c>.</summary>
/// <param name="Skipped">Never set.</param>
/// <param name="Interrupted">The job was asked to stop.</param>
/// <param name="StoppingGeneration">Same as <paramref name="Interrupted"/>.</param>
/// <param name="Job">The job's id, or "" when the token has none.</param>
/// <param name="JobCount">The token's waiting and running jobs.</param>
/// <param name="JobTimestamp">When the job was submitted (yyyyMMddHHmmss, UTC), or "0".</param>
/// <param name="JobNo">Always 0: the job shown is the first of them.</param>
/// <param name="SamplingStep">Steps finished.</param>
/// <param name="SamplingSteps">Steps the job takes.</param>
public sealed record A1111ProgressState(
    [property: JsonPropertyName("skipped")] bool Skipped,
    [property: JsonPropertyName("interrupted")] bool Interrupted,
    [property: JsonPropertyName("stopping_generation")] bool StoppingGeneration,
    [property: JsonPropertyName("job")] string Job,
    [property: JsonPropertyName("job_count")] int JobCount,
    [property: JsonPropertyName("job_timestamp")] string JobTimestamp,
    [property: JsonPropertyName("job_no")] int JobNo,
    [property: JsonPropertyName("sampling_step")] int SamplingStep,
    [property: JsonPropertyName("sampling_steps")] int SamplingSteps);

/// <summary>What <c>progress</c> answers about the token's job (its running one, else its newest waiting one).</summary>
/// <param name="Progress">0–1.</param>
/// <param name="EtaRelative">Seconds until it is done (an estimate; 0 when unknown).</param>
/// <param name="State">A1111's state block.</param>
/// <param name="CurrentImage">The latest preview as a base64 JPEG, or null (none yet, not asked for, or held by another node).</param>
/// <param name="TextInfo">Where the job stands, in words; null when the token has no job.</param>
public sealed record A1111ProgressResponse(
    [property: JsonPropertyName("progress")] double Progress,
    [property: JsonPropertyName("eta_relative")] double EtaRelative,
    [property: JsonPropertyName("state")] A1111ProgressState State,
    [property: JsonPropertyName("current_image")] string? CurrentImage,
    [property: JsonPropertyName("textinfo")] string? TextInfo);

/// <summary>What <c>interrupt</c> answers.</summary>
/// <param name="Interrupted">The jobs asked to stop (waiting ones end at once, running ones before their next step).</param>
public sealed record A1111InterruptResponse([property: JsonPropertyName("interrupted")] IReadOnlyList<Guid> Interrupted);

/// <summary>One model, as A1111's <c>sd-models</c> lists a checkpoint.</summary>
/// <param name="Title">What <c>sd_model_checkpoint</c> takes (the model's id).</param>
/// <param name="ModelName">The model's id.</param>
/// <param name="Hash">Not computed for the list (A1111 leaves it null until a checkpoint is hashed).</param>
/// <param name="Sha256">Likewise.</param>
/// <param name="Filename">The model's folder name.</param>
/// <param name="Config">No separate config (null).</param>
public sealed record A1111SdModel(
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("model_name")] string ModelName,
    [property: JsonPropertyName("hash")] string? Hash,
    [property: JsonPropertyName("sha256")] string? Sha256,
    [property: JsonPropertyName("filename")] string Filename,
    [property: JsonPropertyName("config")] string? Config);

/// <summary>One sampler, as A1111's <c>samplers</c> lists it.</summary>
/// <param name="Name">The A1111 name.</param>
/// <param name="Aliases">Other names accepted for it.</param>
/// <param name="Options">A1111's options (<c>scheduler</c> for the Karras variant).</param>
public sealed record A1111Sampler(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("aliases")] IReadOnlyList<string> Aliases,
    [property: JsonPropertyName("options")] IReadOnlyDictionary<string, string> Options);

/// <summary>The settings <c>options</c> reads; only <c>sd_model_checkpoint</c> can be written (per token).</summary>
/// <param name="SdModelCheckpoint">The model this token's calls use unless they override it.</param>
/// <param name="SdVae">No separate VAE: always "Automatic".</param>
/// <param name="SamplesFormat">Always "png".</param>
/// <param name="ClipStopAtLastLayers">CLIP skip (always 1).</param>
/// <param name="EtaNoiseSeedDelta">ENSD (always 0).</param>
/// <param name="LivePreviewsEnable">Previews come with <c>progress</c>.</param>
/// <param name="AddModelHashToInfo">Infotexts carry the model hash.</param>
/// <param name="AddModelNameToInfo">Infotexts carry the model name.</param>
public sealed record A1111Options(
    [property: JsonPropertyName("sd_model_checkpoint")] string? SdModelCheckpoint,
    [property: JsonPropertyName("sd_vae")] string SdVae,
    [property: JsonPropertyName("samples_format")] string SamplesFormat,
    [property: JsonPropertyName("CLIP_stop_at_last_layers")] int ClipStopAtLastLayers,
    [property: JsonPropertyName("eta_noise_seed_delta")] int EtaNoiseSeedDelta,
    [property: JsonPropertyName("live_previews_enable")] bool LivePreviewsEnable,
    [property: JsonPropertyName("add_model_hash_to_info")] bool AddModelHashToInfo,
    [property: JsonPropertyName("add_model_name_to_info")] bool AddModelNameToInfo);

/// <summary>A <c>png-info</c> request.</summary>
/// <param name="Image">The picture, base64 (a <c>data:image/…;base64,</c> URL too).</param>
public sealed record A1111PngInfoRequest([property: JsonPropertyName("image")] string? Image);

/// <summary>What <c>png-info</c> answers.</summary>
/// <param name="Info">The <c>parameters</c> text, or "" when the picture has none.</param>
/// <param name="Items">The picture's other text chunks by keyword (e.g. <c>t2istudio</c>); <c>parameters</c> is in <c>info</c> only, as A1111 answers.</param>
/// <param name="Parameters">The text parsed as A1111's <c>parse_generation_parameters</c> does: Prompt, Negative prompt, Steps, Sampler, CFG scale, Seed, Size-1, Size-2, Model hash, Model, …</param>
public sealed record A1111PngInfoResponse(
    [property: JsonPropertyName("info")] string Info,
    [property: JsonPropertyName("items")] IReadOnlyDictionary<string, string> Items,
    [property: JsonPropertyName("parameters")] IReadOnlyDictionary<string, string> Parameters);
