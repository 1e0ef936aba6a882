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
    private LoadedModel(ModelInfo info, ClipTokenizer tokenizer, OnnxComponent textEncoder, OnnxComponent unet, OnnxComponent decoder, OnnxComponent? encoder, ExecutionDevice device, EmbeddingFit embeddings)
    {
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

    /// <summary>The textual-inversion embeddings added to the text encoder, and those refused with the reason.</summary>
    public EmbeddingFit Embeddings { get; }

    /// <summary>text_encoder/model.onnx.</summary>
    public OnnxComponent TextEncoder { get; }

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

    /// <summary>Creates the sessions of an available model, with <paramref name="embeddings"/> added to its text encoder.</summary>
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
            OnnxComponent Open(string component)
            {
                var session = new OnnxComponent(Path.Combine(info.Folder, component, "model.onnx"), device);
                created.Add(session);
                return session;
            }
            var (text, fit) = OpenTextEncoder(info, TextEncoderKeys.Primary, embeddings ?? EmbeddingLibrary.Empty, device);
            created.Add(text);
            var tokenizer = fit.Apply(ClipTokenizer.FromFolder(Path.Combine(info.Folder, "tokenizer")));
            var unet = Open("unet");
            var decoder = Open("vae_decoder");
            var encoder = info.Traits!.HasVaeEncoder ? Open("vae_encoder") : null;
            return new LoadedModel(info, tokenizer, text, unet, decoder, encoder, device, fit);
        }
        catch
        {
            created.ForEach(c => c.Dispose());
            throw;
        }
    }

    // A text encoder's session is made with the embeddings that fit it (its token table grown in memory); SDXL's
    // second encoder opens through here with TextEncoderKeys.Secondary, so clip_g vectors reach text_encoder_2.
    private static (OnnxComponent Encoder, EmbeddingFit Fit) OpenTextEncoder(ModelInfo info, string encoderKey, EmbeddingLibrary embeddings, ExecutionDevice device) =>
        TextEncoderSession.Open(Path.Combine(info.Folder, encoderKey, "model.onnx"), encoderKey, embeddings, device);

    /// <inheritdoc />
    public void Dispose()
    {
        TextEncoder.Dispose();
        Unet.Dispose();
        VaeDecoder.Dispose();
        VaeEncoder?.Dispose();
        Graphs.Dispose();
    }
}
