using T2IStudio.Generation.Tokenization;

namespace T2IStudio.Generation.TextualInversion;

/// <summary>The names of a model's text encoders, which an embedding's vectors are for.</summary>
public static class TextEncoderKeys
{
    /// <summary><c>text_encoder</c>: the only one of SD 1.x / 2.x; SDXL's CLIP ViT-L (<c>clip_l</c>).</summary>
    public const string Primary = "text_encoder";

    /// <summary><c>text_encoder_2</c>: SDXL's OpenCLIP bigG (<c>clip_g</c>).</summary>
    public const string Secondary = "text_encoder_2";
}

/// <summary>An embedding's vectors for one text encoder.</summary>
/// <param name="Count">How many tokens the trigger becomes.</param>
/// <param name="Width">The width of each vector (the encoder's token-embedding width).</param>
/// <param name="Values">Row-major [Count × Width].</param>
public sealed record EmbeddingVectors(int Count, int Width, float[] Values);

/// <summary>
/// A textual-inversion embedding: a trigger word (the file's name) and the vectors it stands for, per text
/// encoder. Read from A1111 safetensors (<c>emb_params</c>, <c>string_to_param.*</c>), diffusers
/// <c>learned_embeds.safetensors</c> (one tensor keyed by its token) and SDXL's <c>clip_l</c> / <c>clip_g</c> pair.
/// </summary>
public sealed class TextualInversionEmbedding
{
    /// <summary>The most tokens one trigger may become: one window of the prompt.</summary>
    public const int MaxVectors = ClipTokenizer.Window;

    private readonly Dictionary<string, EmbeddingVectors> _vectors;

    private TextualInversionEmbedding(string trigger, string path, string format, Dictionary<string, EmbeddingVectors> vectors)
    {
        Trigger = trigger;
        Path = path;
        Format = format;
        _vectors = vectors;
    }

    /// <summary>The word that stands for the vectors in a prompt, as CLIP normalises it (lower case).</summary>
    public string Trigger { get; }

    /// <summary>The file it was read from.</summary>
    public string Path { get; }

    /// <summary>"A1111", "diffusers" or "SDXL".</summary>
    public string Format { get; }

    /// <summary>True for SDXL's pair (vectors for both text encoders).</summary>
    public bool IsPair => _vectors.Count == 2;

    /// <summary>How many tokens the trigger becomes.</summary>
    public int Count => _vectors.Values.First().Count;

    /// <summary>The encoders it has vectors for, with those vectors.</summary>
    public IReadOnlyDictionary<string, EmbeddingVectors> Vectors => _vectors;

    /// <summary>The vectors for the encoder <paramref name="encoderKey"/> (<see cref="TextEncoderKeys"/>), or null.</summary>
    public EmbeddingVectors? For(string encoderKey) => _vectors.GetValueOrDefault(encoderKey);

    /// <summary>Reads a <c>.safetensors</c> embedding whose trigger word is <paramref name="trigger"/>.</summary>
    /// <exception cref="InvalidDataException">The file is malformed or holds no embedding layout this knows; the message says why.</exception>
    public static TextualInversionEmbedding Load(string path, string trigger)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(trigger);
        var word = ClipTokenizer.Normalize(trigger);
        if (word.Length == 0)
        {
            throw new InvalidDataException("The file name gives no trigger word.");
        }
        var tensors = SafeTensorsFile.Read(path);
        var byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        if (byName.TryGetValue("clip_l", out var clipL) | byName.TryGetValue("clip_g", out var clipG))
        {
            if (clipL is null || clipG is null)
            {
                throw new InvalidDataException("An SDXL embedding needs both clip_l and clip_g; this file has only one.");
            }
            var l = ReadVectors(clipL);
            var g = ReadVectors(clipG);
            if (l.Count != g.Count)
            {
                throw new InvalidDataException($"clip_l has {l.Count} vectors but clip_g has {g.Count}: they must pair up.");
            }
            return new TextualInversionEmbedding(word, path, "SDXL", new() { [TextEncoderKeys.Primary] = l, [TextEncoderKeys.Secondary] = g });
        }
        SafeTensor? single;
        string format;
        if (byName.TryGetValue("emb_params", out single))
        {
            format = "A1111";
        }
        else if ((single = tensors.FirstOrDefault(t => t.Name == "string_to_param" || t.Name.StartsWith("string_to_param.", StringComparison.Ordinal))) is not null)
        {
            format = "A1111";
        }
        else if (tensors.Count == 1)
        {
            single = tensors[0]; // diffusers: the one tensor is keyed by its placeholder token
            format = "diffusers";
        }
        else
        {
            var names = string.Join(", ", tensors.Select(t => t.Name).Take(8));
            throw new InvalidDataException($"No embedding layout found (emb_params, string_to_param, clip_l/clip_g, or one diffusers tensor); its tensors are: {(names.Length == 0 ? "none" : names)}.");
        }
        return new TextualInversionEmbedding(word, path, format, new() { [TextEncoderKeys.Primary] = ReadVectors(single) });
    }

    private static EmbeddingVectors ReadVectors(SafeTensor tensor)
    {
        var (count, width) = tensor.Shape.Length switch
        {
            1 => (1L, tensor.Shape[0]),
            2 => (tensor.Shape[0], tensor.Shape[1]),
            _ => throw new InvalidDataException($"Tensor '{tensor.Name}' has shape [{string.Join(", ", tensor.Shape)}]; an embedding is [vectors, width] or [width]."),
        };
        if (count < 1 || count > MaxVectors)
        {
            throw new InvalidDataException($"Tensor '{tensor.Name}' has {count} vectors; a trigger may stand for 1 to {MaxVectors}.");
        }
        if (width < 1)
        {
            throw new InvalidDataException($"Tensor '{tensor.Name}' has no width.");
        }
        return new EmbeddingVectors((int)count, (int)width, tensor.Values);
    }
}
