using System.Text.Json;
using Microsoft.ML.OnnxRuntime.Tensors;
using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Generation.Models;

/// <summary>
/// Finds Stable-Diffusion-layout model folders (Hugging Face ONNX exports) under the configured roots and
/// inspects each: a broken folder is listed as unavailable with the reason, never an exception.
/// </summary>
public sealed class ModelCatalog(IEnumerable<string> roots)
{
    private static readonly string[] RequiredFiles =
    [
        "model_index.json",
        "tokenizer/vocab.json",
        "tokenizer/merges.txt",
        "text_encoder/model.onnx",
        "unet/model.onnx",
        "vae_decoder/model.onnx",
        "scheduler/scheduler_config.json",
    ];

    // Files that change what a folder is when they appear, vanish or change (SDXL's second encoder, the VAE config).
    private static readonly string[] OptionalFiles =
    [
        "vae_encoder/model.onnx",
        "vae_decoder/config.json",
        "text_encoder_2/model.onnx",
        "tokenizer_2/vocab.json",
        "tokenizer_2/tokenizer_config.json",
    ];

    private static readonly string[] XlFiles = ["text_encoder_2/model.onnx", "tokenizer_2/vocab.json", "tokenizer_2/merges.txt"];

    private readonly string[] _roots = [.. roots.Select(Path.GetFullPath)];

    // Inspecting a folder parses four ONNX graphs; pages and the queue ask often, folders rarely change.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (DateTime Stamp, ModelInfo Info)> _inspected = new(StringComparer.Ordinal);

    /// <summary>Every model folder under the roots, available or not, ordered by id.</summary>
    public IReadOnlyList<ModelInfo> List()
    {
        var models = new List<ModelInfo>();
        foreach (var root in _roots.Where(Directory.Exists))
        {
            if (LooksLikeModel(root))
            {
                models.Add(InspectCached(root));
                continue;
            }
            foreach (var folder in Directory.EnumerateDirectories(root).Where(LooksLikeModel))
            {
                models.Add(InspectCached(folder));
            }
        }
        return [.. models.OrderBy(m => m.Id, StringComparer.Ordinal)];
    }

    /// <summary>The model with this id (its folder name), or null.</summary>
    public ModelInfo? Find(string id) => List().FirstOrDefault(m => m.Id == id);

    /// <summary>The folder's inspection, redone only when one of its files changed.</summary>
    private ModelInfo InspectCached(string folder)
    {
        var stamp = RequiredFiles.Concat(OptionalFiles)
            .Select(f => Path.Combine(folder, f))
            .Select(f => File.Exists(f) ? File.GetLastWriteTimeUtc(f) : DateTime.MinValue)
            .Max();
        if (_inspected.TryGetValue(folder, out var cached) && cached.Stamp == stamp)
        {
            return cached.Info;
        }
        var info = Inspect(folder);
        _inspected[folder] = (stamp, info);
        return info;
    }

    /// <summary>Inspects one folder.</summary>
    public static ModelInfo Inspect(string folder)
    {
        folder = Path.GetFullPath(folder);
        var id = Path.GetFileName(folder.TrimEnd(Path.DirectorySeparatorChar));
        try
        {
            var missing = RequiredFiles.Where(f => !File.Exists(Path.Combine(folder, f))).ToList();
            if (missing.Count > 0)
            {
                return Unavailable($"missing {string.Join(", ", missing)}");
            }
            var scheduler = SchedulerConfig.FromJson(File.ReadAllText(Path.Combine(folder, "scheduler", "scheduler_config.json")));
            var text = OnnxGraphInspector.Read(Path.Combine(folder, "text_encoder", "model.onnx"));
            var unet = OnnxGraphInspector.Read(Path.Combine(folder, "unet", "model.onnx"));
            var decoder = OnnxGraphInspector.Read(Path.Combine(folder, "vae_decoder", "model.onnx"));
            var encoderPath = Path.Combine(folder, "vae_encoder", "model.onnx");
            var encoder = File.Exists(encoderPath) ? OnnxGraphInspector.Read(encoderPath) : null;
            var secondPath = Path.Combine(folder, "text_encoder_2", "model.onnx");
            var second = File.Exists(secondPath) ? OnnxGraphInspector.Read(secondPath) : null;
            var traits = Traits(folder, scheduler, text, second, unet, decoder, encoder, out var problem);
            return traits is null ? Unavailable(problem!) : new ModelInfo(id, folder, true, null, traits, scheduler);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or JsonException or NotSupportedException or UnauthorizedAccessException)
        {
            return Unavailable(ex.Message);
        }

        ModelInfo Unavailable(string reason) => new(id, folder, false, reason, null, null);
    }

    private static ModelTraits? Traits(string folder, SchedulerConfig scheduler, GraphSignature text, GraphSignature? second, GraphSignature unet, GraphSignature decoder, GraphSignature? encoder, out string? problem)
    {
        problem = null;
        var ids = text.Input("input_ids");
        if (ids is null || ids.ElementType is not (TensorElementType.Int32 or TensorElementType.Int64))
        {
            problem = "text_encoder has no int32 or int64 input_ids";
            return null;
        }
        var sample = unet.Input("sample");
        var timestep = unet.Input("timestep");
        var hidden = unet.Input("encoder_hidden_states");
        if (sample is null || timestep is null || hidden is null)
        {
            problem = "unet lacks one of sample, timestep, encoder_hidden_states";
            return null;
        }
        if (sample.Dimensions.Length != 4 || hidden.Dimensions.Length != 3)
        {
            problem = $"unet sample has rank {sample.Dimensions.Length} (want 4) or encoder_hidden_states rank {hidden.Dimensions.Length} (want 3)";
            return null;
        }
        var latent = decoder.Input("latent_sample");
        if (latent is null || latent.Dimensions.Length != 4)
        {
            problem = "vae_decoder has no 4-D latent_sample input";
            return null;
        }
        var latentChannels = latent.Dimensions[1] > 0 ? (int)latent.Dimensions[1] : 4;
        var unetChannels = sample.Dimensions[1] > 0 ? (int)sample.Dimensions[1] : latentChannels;
        if (unetChannels != latentChannels && unetChannels != 2 * latentChannels + 1)
        {
            problem = $"unet takes {unetChannels} channels; the VAE has {latentChannels} latent channels";
            return null;
        }
        XlConditioning? xl = null;
        long textOutWidth;
        if (second is not null || unet.Input("text_embeds") is not null || unet.Input("time_ids") is not null)
        {
            xl = XlTraits(folder, text, second, unet, out problem);
            if (xl is null)
            {
                return null;
            }
            textOutWidth = xl.FirstTextWidth + xl.SecondTextWidth;
        }
        else
        {
            var textOut = text.Output("last_hidden_state") ?? (text.Outputs.Count > 0 ? text.Outputs[0] : null);
            textOutWidth = textOut is { Dimensions.Length: > 0 } ? textOut.Dimensions[^1] : -1;
        }
        var width = (int)(hidden.Dimensions[2] > 0 ? hidden.Dimensions[2] : textOutWidth);
        if (hidden.Dimensions[2] > 0 && textOutWidth > 0 && hidden.Dimensions[2] != textOutWidth)
        {
            problem = xl is null
                ? $"text encoder width {textOutWidth} does not match the unet's {hidden.Dimensions[2]}"
                : $"text encoder widths {xl.FirstTextWidth} + {xl.SecondTextWidth} do not add up to the unet's {hidden.Dimensions[2]}";
            return null;
        }
        if (timestep.ElementType is not (TensorElementType.Int64 or TensorElementType.Int32 or TensorElementType.Float or TensorElementType.Float16 or TensorElementType.Double))
        {
            problem = $"unet timestep has unsupported type {timestep.ElementType}";
            return null;
        }
        string? encoderOutput = null;
        if (encoder is not null)
        {
            encoderOutput = encoder.Output("latent_sample")?.Name ?? encoder.Output("latent_parameters")?.Name;
            if (encoderOutput is null)
            {
                problem = "vae_encoder outputs neither latent_sample nor latent_parameters";
                return null;
            }
        }
        var (scaleFactor, scaling, sampleSize, forceUpcast) = ReadVaeConfig(folder);
        var isLcm = unet.Input("timestep_cond") is not null;
        // 77 when the export fixed the text sequence (one chunk); a free dimension takes any number of chunks.
        var sequence = hidden.Dimensions[1];
        return new ModelTraits
        {
            Family = xl is not null ? ModelFamily.StableDiffusionXL
                : width switch { 768 => ModelFamily.StableDiffusion1, 1024 => ModelFamily.StableDiffusion2, _ => ModelFamily.Custom },
            TextWidth = width,
            Xl = xl,
            MaxPromptChunks = sequence > 0 ? (int)Math.Max(1, sequence / Tokenization.ClipTokenizer.SequenceLength) : MaxPromptChunks,
            VaeForceUpcast = forceUpcast,
            IsFloat16Vae = latent.ElementType == TensorElementType.Float16,
            IsFloat16VaeEncoder = encoder?.Input("sample")?.ElementType == TensorElementType.Float16,
            LatentChannels = latentChannels,
            UnetInputChannels = unetChannels,
            VaeScaleFactor = scaleFactor,
            VaeScalingFactor = scaling,
            TimestepType = timestep.ElementType,
            TimestepIsScalar = timestep.Dimensions.Length == 0,
            IsFloat16 = sample.ElementType == TensorElementType.Float16,
            IsLcm = isLcm,
            FixedUnetBatch = sample.Dimensions[0] > 0 ? (int)sample.Dimensions[0] : null,
            VaeEncoderOutput = encoderOutput,
            Defaults = ReadDefaults(folder, sampleSize, isLcm, xl is not null, scheduler),
        };
    }

    /// <summary>
    /// Most chunks of 77 tokens a prompt is encoded in when the UNet takes any text length: A1111 has no limit;
    /// this keeps a 2000-character prompt's cost bounded (27 chunks would be its worst case).
    /// </summary>
    public const int MaxPromptChunks = 8;

    // SDXL as Optimum exports it: text_encoder (CLIP ViT-L) and text_encoder_2 (OpenCLIP bigG with projection), both
    // with hidden_states.N outputs (the pipeline reads the penultimate layer), tokenizer_2, and a UNet taking the
    // pooled text_embeds and the size conditioning time_ids.
    private static XlConditioning? XlTraits(string folder, GraphSignature text, GraphSignature? second, GraphSignature unet, out string? problem)
    {
        problem = null;
        var missing = XlFiles.Where(f => !File.Exists(Path.Combine(folder, f))).ToList();
        if (second is null || missing.Count > 0)
        {
            problem = $"an SDXL folder (its unet takes text_embeds and time_ids) but missing {string.Join(", ", missing)}";
            return null;
        }
        var ids = second.Input("input_ids");
        if (ids is null || ids.ElementType is not (TensorElementType.Int32 or TensorElementType.Int64))
        {
            problem = "text_encoder_2 has no int32 or int64 input_ids";
            return null;
        }
        foreach (var (name, graph) in new[] { ("text_encoder", text), ("text_encoder_2", second) })
        {
            if (TextEncoderOutputs.Penultimate(graph.Outputs.Select(o => o.Name)) is null)
            {
                problem = $"{name} has no hidden_states.N outputs (export it with Optimum's SDXL task, which adds them): SDXL reads its penultimate layer";
                return null;
            }
        }
        var pooled = second.Output("text_embeds");
        var embeds = unet.Input("text_embeds");
        var timeIds = unet.Input("time_ids");
        if (pooled is null || embeds is null || timeIds is null)
        {
            problem = "an SDXL folder needs text_encoder_2's text_embeds output and the unet's text_embeds and time_ids inputs";
            return null;
        }
        if (embeds.Dimensions.Length != 2 || timeIds.Dimensions.Length != 2)
        {
            problem = $"the unet's text_embeds has rank {embeds.Dimensions.Length} and time_ids rank {timeIds.Dimensions.Length} (want 2 and 2)";
            return null;
        }
        if (timeIds.Dimensions[1] != 6)
        {
            problem = timeIds.Dimensions[1] == 5
                ? "an SDXL refiner (time_ids with an aesthetic score) is not supported"
                : $"the unet's time_ids has {timeIds.Dimensions[1]} values (want 6: original size, crop, target size)";
            return null;
        }
        long Width(GraphSignature graph) =>
            graph.Outputs.FirstOrDefault(o => o.Name == TextEncoderOutputs.Penultimate(graph.Outputs.Select(x => x.Name)))?.Dimensions is { Length: 3 } d ? d[2] : -1;
        long first = Width(text), secondWidth = Width(second);
        var pooledWidth = pooled.Dimensions.Length == 2 && pooled.Dimensions[1] > 0 ? pooled.Dimensions[1] : embeds.Dimensions[1];
        if (first <= 0 || secondWidth <= 0 || pooledWidth <= 0)
        {
            problem = "the SDXL text encoders do not declare their hidden widths";
            return null;
        }
        if (embeds.Dimensions[1] > 0 && embeds.Dimensions[1] != pooledWidth)
        {
            problem = $"text_encoder_2's text_embeds is {pooledWidth} wide; the unet's text_embeds {embeds.Dimensions[1]}";
            return null;
        }
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "model_index.json")));
        var forceZeros = index.RootElement.TryGetProperty("force_zeros_for_empty_prompt", out var zeros) && zeros.ValueKind == JsonValueKind.True;
        return new XlConditioning
        {
            FirstTextWidth = (int)first,
            SecondTextWidth = (int)secondWidth,
            PooledWidth = (int)pooledWidth,
            TimeIdsLength = (int)timeIds.Dimensions[1],
            ForceZerosForEmptyPrompt = forceZeros,
        };
    }

    private static ModelDefaults ReadDefaults(string folder, int sampleSize, bool isLcm, bool isXl, SchedulerConfig scheduler)
    {
        // SDXL-Turbo's scheduler places trailing timesteps; it runs unguided in 1–4 steps (diffusers' model card).
        var isXlTurbo = isXl && scheduler.TimestepSpacing == TimestepSpacing.Trailing;
        var defaults = new ModelDefaults
        {
            Width = sampleSize,
            Height = sampleSize,
            Steps = isLcm || isXlTurbo ? 4 : 20,
            Guidance = isLcm ? 8 : isXlTurbo ? 0 : isXl ? 5 : 7,
            Scheduler = isLcm ? SchedulerKind.Lcm : SchedulerKind.EulerAncestral,
        };
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "model_index.json")));
        if (!json.RootElement.TryGetProperty("t2istudio_defaults", out var d) || d.ValueKind != JsonValueKind.Object)
        {
            return defaults;
        }
        return defaults with
        {
            Width = d.TryGetProperty("width", out var w) ? w.GetInt32() : defaults.Width,
            Height = d.TryGetProperty("height", out var h) ? h.GetInt32() : defaults.Height,
            Steps = d.TryGetProperty("steps", out var st) ? st.GetInt32() : defaults.Steps,
            Guidance = d.TryGetProperty("guidance", out var g) ? g.GetDouble() : defaults.Guidance,
            Scheduler = d.TryGetProperty("scheduler", out var sc) && SchedulerFactory.TryParse(sc.GetString() ?? "", out var kind) ? kind : defaults.Scheduler,
        };
    }

    private static (int ScaleFactor, double ScalingFactor, int SampleSize, bool ForceUpcast) ReadVaeConfig(string folder)
    {
        var path = Path.Combine(folder, "vae_decoder", "config.json");
        if (!File.Exists(path))
        {
            return (8, 0.18215, 512, false);
        }
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var root = json.RootElement;
        var scaling = root.TryGetProperty("scaling_factor", out var s) ? s.GetDouble() : 0.18215;
        var factor = root.TryGetProperty("block_out_channels", out var blocks) ? 1 << (blocks.GetArrayLength() - 1) : 8;
        var size = root.TryGetProperty("sample_size", out var sample) && sample.ValueKind == JsonValueKind.Number ? sample.GetInt32() : 512;
        var upcast = root.TryGetProperty("force_upcast", out var force) && force.ValueKind == JsonValueKind.True;
        return (factor, scaling, size, upcast);
    }

    private static bool LooksLikeModel(string folder) =>
        File.Exists(Path.Combine(folder, "model_index.json")) || Directory.Exists(Path.Combine(folder, "unet"));
}
