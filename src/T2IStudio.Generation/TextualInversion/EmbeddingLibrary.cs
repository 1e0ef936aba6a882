using T2IStudio.Generation.Tokenization;

namespace T2IStudio.Generation.TextualInversion;

/// <summary>A file in an embeddings folder that is not used, and why.</summary>
/// <param name="Path">The file or folder.</param>
/// <param name="Reason">Why it is not used.</param>
public sealed record EmbeddingProblem(string Path, string Reason);

/// <summary>
/// The embeddings under <c>embeddings/</c> of each model root: <c>NAME.safetensors</c> (A1111, diffusers or an
/// SDXL pair) and diffusers' <c>NAME/learned_embeds.safetensors</c>; the trigger word is NAME. Pickled files
/// (<c>.pt</c>, <c>.bin</c>, <c>.ckpt</c>) are never opened. A file that cannot be used is listed with its
/// reason in <see cref="Problems"/> and changes nothing else: every model still loads.
/// </summary>
public sealed class EmbeddingLibrary
{
    /// <summary>The folder under each model root that holds embeddings.</summary>
    public const string FolderName = "embeddings";

    /// <summary>The diffusers file inside a <c>NAME/</c> folder.</summary>
    public const string DiffusersFileName = "learned_embeds.safetensors";

    private EmbeddingLibrary(IReadOnlyList<TextualInversionEmbedding> embeddings, IReadOnlyList<EmbeddingProblem> problems)
    {
        Embeddings = embeddings;
        Problems = problems;
    }

    /// <summary>No embeddings.</summary>
    public static EmbeddingLibrary Empty { get; } = new([], []);

    /// <summary>The embeddings that were read, by trigger word.</summary>
    public IReadOnlyList<TextualInversionEmbedding> Embeddings { get; }

    /// <summary>Files that were not used, with the reason.</summary>
    public IReadOnlyList<EmbeddingProblem> Problems { get; }

    /// <summary>Reads <c>embeddings/</c> under each of <paramref name="modelRoots"/> (missing folders are skipped).</summary>
    public static EmbeddingLibrary Scan(IEnumerable<string> modelRoots)
    {
        ArgumentNullException.ThrowIfNull(modelRoots);
        var embeddings = new List<TextualInversionEmbedding>();
        var problems = new List<EmbeddingProblem>();
        foreach (var root in modelRoots)
        {
            var folder = Path.Combine(root, FolderName);
            if (Directory.Exists(folder))
            {
                ReadFolder(folder, embeddings, problems);
            }
        }
        return new EmbeddingLibrary(embeddings, problems);
    }

    /// <summary>Reads one embeddings folder.</summary>
    public static EmbeddingLibrary FromFolder(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var embeddings = new List<TextualInversionEmbedding>();
        var problems = new List<EmbeddingProblem>();
        if (Directory.Exists(folder))
        {
            ReadFolder(folder, embeddings, problems);
        }
        return new EmbeddingLibrary(embeddings, problems);
    }

    /// <summary>
    /// What these embeddings add to the text encoder <paramref name="encoderKey"/> whose token table is
    /// <paramref name="width"/> wide and whose ids end before <paramref name="firstId"/>: each fitting trigger
    /// gets the next ids and its vectors become the rows for them; one that does not fit (another width, or an
    /// SDXL pair on a one-encoder model and the reverse) is refused with its reason.
    /// </summary>
    /// <param name="encoderKey">Which encoder (<see cref="TextEncoderKeys"/>).</param>
    /// <param name="width">The encoder's token-embedding width.</param>
    /// <param name="firstId">The first id past the encoder's table (its row count).</param>
    /// <param name="twoEncoders">True for a model with two text encoders (SDXL).</param>
    public EmbeddingFit Fit(string encoderKey, int width, int firstId, bool twoEncoders = false)
    {
        ArgumentNullException.ThrowIfNull(encoderKey);
        var added = new List<AddedToken>();
        var refused = new List<RefusedToken>();
        var rows = new List<float>();
        var next = firstId;
        foreach (var embedding in Embeddings)
        {
            var vectors = embedding.For(encoderKey);
            string? reason = null;
            if (embedding.IsPair != twoEncoders)
            {
                reason = embedding.IsPair
                    ? "it is an SDXL embedding (clip_l and clip_g) and this model has one text encoder."
                    : "it has one set of vectors and this SDXL model needs clip_l and clip_g.";
            }
            else if (vectors is null)
            {
                reason = $"it has no vectors for {encoderKey}.";
            }
            else if (vectors.Width != width)
            {
                reason = $"its vectors are {vectors.Width} wide and this model's text encoder{(twoEncoders ? $" ({encoderKey})" : "")} takes {width}: it was made for another model family.";
            }
            if (reason is not null)
            {
                refused.Add(new RefusedToken(embedding.Trigger, reason));
                continue;
            }
            added.Add(new AddedToken(embedding.Trigger, [.. Enumerable.Range(next, vectors!.Count)]));
            rows.AddRange(vectors.Values);
            next += vectors.Count;
        }
        return new EmbeddingFit(added, refused, [.. rows], width);
    }

    private static void ReadFolder(string folder, List<TextualInversionEmbedding> embeddings, List<EmbeddingProblem> problems)
    {
        IEnumerable<string> entries;
        try
        {
            entries = Directory.EnumerateFileSystemEntries(folder).Order(StringComparer.Ordinal).ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problems.Add(new EmbeddingProblem(folder, $"The folder cannot be read: {ex.Message}"));
            return;
        }
        foreach (var entry in entries)
        {
            var name = Path.GetFileName(entry);
            if (name.StartsWith('.'))
            {
                continue;
            }
            if (Directory.Exists(entry))
            {
                var learned = Path.Combine(entry, DiffusersFileName);
                if (File.Exists(learned))
                {
                    Add(learned, name, embeddings, problems);
                }
                else
                {
                    problems.Add(new EmbeddingProblem(entry, $"A folder here must hold a diffusers {DiffusersFileName}."));
                }
                continue;
            }
            var extension = Path.GetExtension(name).ToLowerInvariant();
            if (extension == ".safetensors")
            {
                Add(entry, Path.GetFileNameWithoutExtension(name), embeddings, problems);
            }
            else if (extension is ".pt" or ".bin" or ".ckpt" or ".pth")
            {
                problems.Add(new EmbeddingProblem(entry, $"{extension} files are Python pickles, which can run code when opened, so they are never loaded: convert it to .safetensors."));
            }
            else
            {
                problems.Add(new EmbeddingProblem(entry, "Not an embedding: only .safetensors files (or NAME/learned_embeds.safetensors folders) are read."));
            }
        }
    }

    private static void Add(string path, string trigger, List<TextualInversionEmbedding> embeddings, List<EmbeddingProblem> problems)
    {
        try
        {
            var embedding = TextualInversionEmbedding.Load(path, trigger);
            var clash = embeddings.FirstOrDefault(e => e.Trigger == embedding.Trigger);
            if (clash is not null)
            {
                problems.Add(new EmbeddingProblem(path, $"The trigger word '{embedding.Trigger}' is already taken by {clash.Path}."));
                return;
            }
            embeddings.Add(embedding);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            problems.Add(new EmbeddingProblem(path, ex.Message));
        }
    }
}

/// <summary>What the embeddings add to one text encoder: the tokenizer's new words and the table's new rows.</summary>
/// <param name="Added">Triggers that fit, with their ids.</param>
/// <param name="Refused">Triggers that do not, with the reason.</param>
/// <param name="Rows">The new rows of the token table, row-major [ids added × <paramref name="Width"/>], in id order.</param>
/// <param name="Width">The table's width.</param>
public sealed record EmbeddingFit(IReadOnlyList<AddedToken> Added, IReadOnlyList<RefusedToken> Refused, float[] Rows, int Width)
{
    /// <summary>How many ids (rows) are added.</summary>
    public int RowCount => Width == 0 ? 0 : Rows.Length / Width;

    /// <summary><paramref name="tokenizer"/> with these triggers.</summary>
    public ClipTokenizer Apply(ClipTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return Added.Count == 0 && Refused.Count == 0 ? tokenizer : tokenizer.WithAddedTokens(Added, Refused);
    }
}
