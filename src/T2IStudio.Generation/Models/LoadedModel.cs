using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Tokenization;

namespace T2IStudio.Generation.Models;

/// <summary>
/// A model's sessions, created once and reused for every generation; dispose to unload. Not thread-safe:
/// one worker per device runs one generation at a time.
/// </summary>
public sealed class LoadedModel : IDisposable
{
    private LoadedModel(ModelInfo info, ClipTokenizer tokenizer, OnnxComponent textEncoder, OnnxComponent unet, OnnxComponent decoder, OnnxComponent? encoder, ExecutionDevice device, (ClipTokenizer Tokenizer, OnnxComponent Encoder)? second)
    {
        SecondTokenizer = second?.Tokenizer;
        SecondTextEncoder = second?.Encoder;
        Graphs = new DeviceGraphs(device);
        ExecutionDevice = device;
        Info = info;
        Tokenizer = tokenizer;
        TextEncoder = textEncoder;
        Unet = unet;
        VaeDecoder = decoder;
        VaeEncoder = encoder;
        _hash = new Lazy<string>(() =>
        {
            using var stream = File.OpenRead(Path.Combine(info.Folder, "unet", "model.onnx"));
            return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream))[..10];
        });
    }

    /// <summary>The catalog entry this was loaded from.</summary>
    public ModelInfo Info { get; }

    /// <summary>What the model is.</summary>
    public ModelTraits Traits => Info.Traits!;

    /// <summary>The model's tokenizer.</summary>
    public ClipTokenizer Tokenizer { get; }

    /// <summary>text_encoder/model.onnx.</summary>
    public OnnxComponent TextEncoder { get; }

    /// <summary>SDXL's tokenizer_2 (its own pad token: "!" in SDXL); null for other families.</summary>
    public ClipTokenizer? SecondTokenizer { get; }

    /// <summary>SDXL's text_encoder_2/model.onnx (OpenCLIP bigG with projection); null for other families.</summary>
    public OnnxComponent? SecondTextEncoder { get; }

    /// <summary>unet/model.onnx.</summary>
    public OnnxComponent Unet { get; }

    /// <summary>vae_decoder/model.onnx.</summary>
    public OnnxComponent VaeDecoder { get; }

    /// <summary>vae_encoder/model.onnx, when present.</summary>
    public OnnxComponent? VaeEncoder { get; }

    /// <summary>The device the sessions run on.</summary>
    public ActiveDevice Device => ExecutionDevice.Active;

    /// <summary>The device's settings (resident latents, shape sessions) as they stand now.</summary>
    public ExecutionDevice ExecutionDevice { get; }

    /// <summary>The engine's own step graphs for this model's device, compiled once each.</summary>
    public DeviceGraphs Graphs { get; }

    /// <summary>A1111's "Model hash": the first 10 hex digits of the UNet file's SHA-256 (computed once).</summary>
    public string ModelHash => _hash.Value;

    private readonly Lazy<string> _hash;

    /// <summary>Creates the sessions of an available model.</summary>
    public static LoadedModel Load(ModelInfo info, ExecutionDevice device)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(device);
        if (!info.IsAvailable)
        {
            throw new InvalidOperationException($"Model '{info.Id}' is unavailable: {info.Problem}");
        }
        var created = new List<IDisposable>();
        try
        {
            OnnxComponent Open(string component, bool upcast = false)
            {
                var path = Path.Combine(info.Folder, component, "model.onnx");
                var session = new OnnxComponent(path, upcast ? Float16Upcast.Upcast(File.ReadAllBytes(path)) : null, device);
                created.Add(session);
                return session;
            }
            var tokenizer = ClipTokenizer.FromFolder(Path.Combine(info.Folder, "tokenizer"));
            var text = Open("text_encoder");
            (ClipTokenizer, OnnxComponent)? second = info.Traits!.Xl is null
                ? null
                : (ClipTokenizer.FromFolder(Path.Combine(info.Folder, "tokenizer_2")), Open("text_encoder_2"));
            var unet = Open("unet");
            // force_upcast (SDXL's VAE): an fp16 VAE runs as fp32, as diffusers upcasts it, since fp16 overflows.
            var upcast = info.Traits!.VaeForceUpcast && info.Traits.IsFloat16Vae;
            var decoder = Open("vae_decoder", upcast);
            var encoder = info.Traits.HasVaeEncoder ? Open("vae_encoder", info.Traits.VaeForceUpcast && info.Traits.IsFloat16VaeEncoder) : null;
            return new LoadedModel(info, tokenizer, text, unet, decoder, encoder, device, second);
        }
        catch
        {
            created.ForEach(c => c.Dispose());
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        TextEncoder.Dispose();
        SecondTextEncoder?.Dispose();
        Unet.Dispose();
        VaeDecoder.Dispose();
        VaeEncoder?.Dispose();
        Graphs.Dispose();
    }
}
