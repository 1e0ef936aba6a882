using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.TextualInversion;
using T2IStudio.Generation.Tokenization;

namespace T2IStudio.Generation.Models;

/// <summary>
/// A model's sessions, created once and reused for every generation; dispose to unload. Not thread-safe:
/// one worker per device runs one generation at a time.
/// </summary>
public sealed class LoadedModel : IDisposable
{
    private LoadedModel(ModelInfo info, ClipTokenizer tokenizer, OnnxComponent textEncoder, OnnxComponent unet, OnnxComponent decoder, OnnxComponent? encoder, ExecutionDevice device, (ClipTokenizer Tokenizer, OnnxComponent Encoder, EmbeddingFit Embeddings)? second, EmbeddingFit embeddings)
    {
        SecondTokenizer = second?.Tokenizer;
        SecondTextEncoder = second?.Encoder;
        SecondEmbeddings = second?.Embeddings;
        Embeddings = embeddings;
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

    /// <summary>The model's tokenizer, with the trigger words of the embeddings its text encoder took.</summary>
    public ClipTokenizer Tokenizer { get; }

    /// <summary>The textual-inversion embeddings added to text_encoder, and those refused with the reason.</summary>
    public EmbeddingFit Embeddings { get; }

    /// <summary>SDXL: the embeddings (their clip_g vectors) added to text_encoder_2; null for other families.</summary>
    public EmbeddingFit? SecondEmbeddings { get; }

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

    /// <summary>Creates the sessions of an available model, with <paramref name="embeddings"/> added to its text encoders.</summary>
    public static LoadedModel Load(ModelInfo info, ExecutionDevice device, EmbeddingLibrary? embeddings = null)
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
            // A text encoder's session is made with the embeddings that fit it (its token table grown in memory):
            // an SDXL pair's clip_l vectors go to text_encoder, its clip_g vectors to text_encoder_2.
            var library = embeddings ?? EmbeddingLibrary.Empty;
            var twoEncoders = info.Traits!.Xl is not null;
            (ClipTokenizer Tokenizer, OnnxComponent Encoder, EmbeddingFit Fit) OpenText(string encoderKey, string tokenizerFolder)
            {
                var (session, fit) = TextEncoderSession.Open(Path.Combine(info.Folder, encoderKey, "model.onnx"), encoderKey, library, device, twoEncoders);
                created.Add(session);
                return (fit.Apply(ClipTokenizer.FromFolder(Path.Combine(info.Folder, tokenizerFolder))), session, fit);
            }
            var (tokenizer, text, fit) = OpenText(TextEncoderKeys.Primary, "tokenizer");
            (ClipTokenizer, OnnxComponent, EmbeddingFit)? second = twoEncoders ? OpenText(TextEncoderKeys.Secondary, "tokenizer_2") : null;
            var unet = Open("unet");
            // force_upcast (SDXL's VAE): an fp16 VAE runs as fp32, as diffusers upcasts it, since fp16 overflows.
            var upcast = info.Traits!.VaeForceUpcast && info.Traits.IsFloat16Vae;
            var decoder = Open("vae_decoder", upcast);
            var encoder = info.Traits.HasVaeEncoder ? Open("vae_encoder", info.Traits.VaeForceUpcast && info.Traits.IsFloat16VaeEncoder) : null;
            return new LoadedModel(info, tokenizer, text, unet, decoder, encoder, device, second, fit);
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
