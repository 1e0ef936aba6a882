using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace T2IStudio.Generation.Tokenization;

/// <summary>
/// CLIP's byte-level BPE tokenizer, exactly as Stable Diffusion's text encoders expect it: NFC,
/// control characters removed, whitespace collapsed, lower case, CLIP's pre-tokenizer pattern,
/// <c>&lt;/w&gt;</c> end-of-word suffix; BOS 49406, up to 75 tokens, EOS 49407, padded to 77.
/// </summary>
public sealed partial class ClipTokenizer
{
    /// <summary><c>&lt;|startoftext|&gt;</c>.</summary>
    public const int BeginOfText = 49406;

    /// <summary><c>&lt;|endoftext|&gt;</c>.</summary>
    public const int EndOfText = 49407;

    /// <summary>CLIP's vocabulary: ids 0 … 49407; ids added for trigger words come after.</summary>
    public const int VocabularySize = 49408;

    /// <summary>The text encoder's sequence length.</summary>
    public const int SequenceLength = 77;

    /// <summary>Prompt tokens that fit between BOS and EOS.</summary>
    public const int Window = SequenceLength - 2;

    private readonly BpeTokenizer _bpe;
    private readonly Dictionary<string, AddedToken> _added;
    private readonly Dictionary<string, RefusedToken> _refused;
    private readonly Regex? _triggers;

    private ClipTokenizer(BpeTokenizer bpe, int padToken, IEnumerable<AddedToken>? added = null, IEnumerable<RefusedToken>? refused = null)
    {
        _bpe = bpe;
        PadToken = padToken;
        _added = (added ?? []).ToDictionary(t => t.Trigger, StringComparer.Ordinal);
        _refused = (refused ?? []).Where(r => !_added.ContainsKey(r.Trigger)).ToDictionary(r => r.Trigger, StringComparer.Ordinal);
        var words = _added.Keys.Concat(_refused.Keys).OrderByDescending(w => w.Length).ThenBy(w => w, StringComparer.Ordinal).ToList();
        if (words.Count > 0)
        {
            // Whole words only, longest first, so "pink-2" is not read as "pink" followed by "-2".
            _triggers = new Regex($@"(?<![\p{{L}}\p{{N}}])(?:{string.Join("|", words.Select(Regex.Escape))})(?![\p{{L}}\p{{N}}])", RegexOptions.CultureInvariant);
        }
    }

    /// <summary>The id that fills the sequence after EOS: EOS for SD 1.x, 0 (<c>!</c>) for SD 2.x.</summary>
    public int PadToken { get; }

    /// <summary>
    /// Loads a Hugging Face tokenizer folder: <c>vocab.json</c>, <c>merges.txt</c> and, when present,
    /// <c>tokenizer_config.json</c> or <c>special_tokens_map.json</c> naming the pad token.
    /// </summary>
    public static ClipTokenizer FromFolder(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var vocabPath = Path.Combine(folder, "vocab.json");
        var mergesPath = Path.Combine(folder, "merges.txt");
        if (!File.Exists(vocabPath) || !File.Exists(mergesPath))
        {
            throw new FileNotFoundException($"A CLIP tokenizer folder needs vocab.json and merges.txt: {folder}");
        }
        var vocabulary = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabPath))
            ?? throw new InvalidDataException("vocab.json is empty.");
        var merges = File.ReadLines(mergesPath).Where(line => line.Length > 0 && !line.StartsWith("#version", StringComparison.Ordinal)).ToList();
        var specials = new Dictionary<string, int>
        {
            ["<|startoftext|>"] = BeginOfText,
            ["<|endoftext|>"] = EndOfText,
        };
        var options = new BpeOptions(vocabulary)
        {
            Merges = merges,
            ByteLevel = true,
            EndOfWordSuffix = "</w>",
            SpecialTokens = specials,
            UnknownToken = "<|endoftext|>",
            PreTokenizer = new RegexPreTokenizer(ClipPattern(), specials),
        };
        var padName = ReadPadToken(folder) ?? "<|endoftext|>";
        var pad = vocabulary.TryGetValue(padName, out var padId) ? padId : EndOfText;
        return new ClipTokenizer(BpeTokenizer.Create(options), pad);
    }

    /// <summary>The trigger words this tokenizer turns into added ids (textual-inversion embeddings).</summary>
    public IReadOnlyCollection<AddedToken> AddedTokens => _added.Values;

    /// <summary>Trigger words whose embedding does not fit the model: a prompt using one is refused.</summary>
    public IReadOnlyCollection<RefusedToken> RefusedTokens => _refused.Values;

    /// <summary>
    /// This tokenizer with trigger words: each of <paramref name="added"/> becomes its ids wherever it stands as
    /// a whole word (matched case-insensitively, before BPE), and a prompt using one of <paramref name="refused"/>
    /// is refused with its reason.
    /// </summary>
    public ClipTokenizer WithAddedTokens(IEnumerable<AddedToken> added, IEnumerable<RefusedToken>? refused = null)
    {
        ArgumentNullException.ThrowIfNull(added);
        return new ClipTokenizer(_bpe, PadToken, added, refused);
    }

    /// <summary>The prompt's token ids, without BOS, EOS or padding, and without truncation.</summary>
    /// <exception cref="EmbeddingRefusedException">The prompt uses the trigger word of an embedding that does not fit the model.</exception>
    public IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var clean = Normalize(text);
        if (_triggers is null || clean.Length == 0)
        {
            return EncodePlain(clean);
        }
        var ids = new List<int>();
        var at = 0;
        foreach (Match match in _triggers.Matches(clean))
        {
            if (_refused.TryGetValue(match.Value, out var refused))
            {
                throw new EmbeddingRefusedException($"The embedding '{refused.Trigger}' cannot be used with this model: {refused.Reason}");
            }
            ids.AddRange(EncodePlain(clean[at..match.Index].Trim(' ')));
            ids.AddRange(_added[match.Value].Ids);
            at = match.Index + match.Length;
        }
        ids.AddRange(EncodePlain(clean[at..].Trim(' ')));
        return ids;
    }

    private IReadOnlyList<int> EncodePlain(string clean) =>
        clean.Length == 0 ? [] : _bpe.EncodeToIds(clean, considerPreTokenization: true, considerNormalization: false);

    /// <summary>How many tokens the prompt uses of the 75-token window (more than 75 means it is cut).</summary>
    public int CountTokens(string text) => Encode(text).Count;

    /// <summary>The 77 ids the text encoder takes: BOS, the first 75 tokens, EOS, then the pad token.</summary>
    public int[] EncodeForModel(string text) => Frame(Encode(text));

    /// <summary>Frames already-encoded tokens as BOS + up to 75 tokens + EOS + padding.</summary>
    public int[] Frame(IReadOnlyList<int> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var ids = new int[SequenceLength];
        Array.Fill(ids, PadToken);
        ids[0] = BeginOfText;
        var count = Math.Min(tokens.Count, Window);
        for (var i = 0; i < count; i++)
        {
            ids[i + 1] = tokens[i];
        }
        ids[count + 1] = EndOfText;
        return ids;
    }

    /// <summary>CLIP's text cleaning: NFC, control characters dropped, whitespace collapsed, trimmed, lower case.</summary>
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var nfc = text.Normalize(NormalizationForm.FormC);
        var builder = new StringBuilder(nfc.Length);
        var lastWasSpace = true;
        foreach (var rune in nfc.EnumerateRunes())
        {
            if (Rune.IsWhiteSpace(rune))
            {
                if (!lastWasSpace)
                {
                    builder.Append(' ');
                    lastWasSpace = true;
                }
                continue;
            }
            var category = Rune.GetUnicodeCategory(rune);
            if (category is UnicodeCategory.Control || rune.Value == 0xFFFD)
            {
                continue;
            }
            builder.Append(rune.ToString().ToLowerInvariant());
            lastWasSpace = false;
        }
        return builder.ToString().TrimEnd(' ');
    }

    private static string? ReadPadToken(string folder)
    {
        foreach (var name in new[] { "tokenizer_config.json", "special_tokens_map.json" })
        {
            var path = Path.Combine(folder, name);
            if (!File.Exists(path))
            {
                continue;
            }
            using var json = JsonDocument.Parse(File.ReadAllText(path));
            if (json.RootElement.TryGetProperty("pad_token", out var pad))
            {
                return pad.ValueKind switch
                {
                    JsonValueKind.String => pad.GetString(),
                    JsonValueKind.Object when pad.TryGetProperty("content", out var content) => content.GetString(),
                    _ => null,
                };
            }
        }
        return null;
    }

    [GeneratedRegex(@"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ClipPattern();
}

/// <summary>A trigger word and the ids it becomes (past the vocabulary: rows added to the encoder's token table).</summary>
/// <param name="Trigger">The word, as <see cref="ClipTokenizer.Normalize"/> writes it.</param>
/// <param name="Ids">Its token ids, one per vector.</param>
public sealed record AddedToken(string Trigger, int[] Ids);

/// <summary>A trigger word whose embedding the model cannot take, and why.</summary>
/// <param name="Trigger">The word, as <see cref="ClipTokenizer.Normalize"/> writes it.</param>
/// <param name="Reason">Why, for the person whose prompt used it.</param>
public sealed record RefusedToken(string Trigger, string Reason);

/// <summary>A prompt used the trigger word of an embedding that does not fit the model.</summary>
public sealed class EmbeddingRefusedException : ArgumentException
{
    /// <summary>Creates the exception with its message.</summary>
    public EmbeddingRefusedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public EmbeddingRefusedException()
    {
    }

    /// <summary>Creates the exception with its message and cause.</summary>
    public EmbeddingRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
