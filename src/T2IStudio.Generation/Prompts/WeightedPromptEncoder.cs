using T2IStudio.Generation.Tokenization;

namespace T2IStudio.Generation.Prompts;

/// <summary>The 77 token ids of a prompt and the attention weight of each position.</summary>
/// <param name="Ids">BOS, up to 75 prompt tokens, EOS, padding.</param>
/// <param name="Weights">One weight per id; BOS, EOS and padding weigh 1.</param>
/// <param name="TokenCount">Prompt tokens before truncation (what the editor shows against 75).</param>
public sealed record WeightedTokens(int[] Ids, float[] Weights, int TokenCount)
{
    /// <summary>True when every weight is 1, so the hidden states need no re-weighting.</summary>
    public bool IsUniform => Array.TrueForAll(Weights, w => w == 1f);
}

/// <summary>Turns weighted prompt text into ids and weights, and applies the weights to text-encoder output.</summary>
public static class WeightedPromptEncoder
{
    /// <summary>Tokenizes each weighted run; <c>BREAK</c> markers and their weights are dropped (one 75-token window).</summary>
    public static WeightedTokens Encode(ClipTokenizer tokenizer, string prompt)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var tokens = new List<int>();
        var weights = new List<float>();
        foreach (var run in PromptAttention.Parse(prompt))
        {
            if (PromptAttention.IsBreak(run))
            {
                continue;
            }
            var ids = tokenizer.Encode(run.Text);
            tokens.AddRange(ids);
            weights.AddRange(Enumerable.Repeat((float)run.Weight, ids.Count));
        }
        var framed = tokenizer.Frame(tokens);
        var framedWeights = new float[ClipTokenizer.SequenceLength];
        Array.Fill(framedWeights, 1f);
        for (var i = 0; i < Math.Min(weights.Count, ClipTokenizer.Window); i++)
        {
            framedWeights[i + 1] = weights[i];
        }
        return new WeightedTokens(framed, framedWeights, tokens.Count);
    }

    /// <summary>
    /// Tokenizes a prompt into 77-token chunks as A1111 does for prompts past the 75-token window: each chunk is
    /// BOS + up to 75 tokens + EOS + padding with its own weights, <c>BREAK</c> starts a new chunk, a multi-vector
    /// embedding that would be cut by a chunk's end moves whole into the next chunk (as A1111 does), and the
    /// encoder's outputs are concatenated along the sequence. With <paramref name="maxChunks"/> 1 (a UNet whose
    /// text sequence is fixed at 77) this is <see cref="Encode"/>: one window, the rest cut.
    /// </summary>
    public static IReadOnlyList<WeightedTokens> EncodeChunks(ClipTokenizer tokenizer, string prompt, int maxChunks)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChunks, 1);
        if (maxChunks == 1)
        {
            return [Encode(tokenizer, prompt)];
        }
        var triggers = tokenizer.AddedTokens.Where(t => t.Ids.Length > 1).ToDictionary(t => t.Ids[0]);
        var chunks = new List<(List<int> Ids, List<float> Weights)> { ([], []) };
        foreach (var run in PromptAttention.Parse(prompt))
        {
            if (PromptAttention.IsBreak(run))
            {
                chunks.Add(([], []));
                continue;
            }
            var ids = tokenizer.Encode(run.Text);
            for (var at = 0; at < ids.Count;)
            {
                // A trigger's vectors stay together: one that would straddle the boundary starts the next chunk.
                var length = TriggerLength(ids, at, triggers);
                if (chunks[^1].Ids.Count + length > ClipTokenizer.Window && chunks[^1].Ids.Count > 0)
                {
                    chunks.Add(([], []));
                }
                for (var i = at; i < at + length; i++)
                {
                    if (chunks[^1].Ids.Count == ClipTokenizer.Window)
                    {
                        chunks.Add(([], []));
                    }
                    chunks[^1].Ids.Add(ids[i]);
                    chunks[^1].Weights.Add((float)run.Weight);
                }
                at += length;
            }
        }
        var total = chunks.Sum(c => c.Ids.Count);
        return [.. chunks.Take(maxChunks).Select(chunk =>
        {
            var weights = new float[ClipTokenizer.SequenceLength];
            Array.Fill(weights, 1f);
            chunk.Weights.CopyTo(weights, 1);
            return new WeightedTokens(tokenizer.Frame(chunk.Ids), weights, total);
        })];
    }

    // How many ids from `at` belong together: all of a multi-vector trigger's ids, or the one id.
    private static int TriggerLength(IReadOnlyList<int> ids, int at, Dictionary<int, AddedToken> triggers)
    {
        if (!triggers.TryGetValue(ids[at], out var trigger) || at + trigger.Ids.Length > ids.Count)
        {
            return 1;
        }
        for (var i = 1; i < trigger.Ids.Length; i++)
        {
            if (ids[at + i] != trigger.Ids[i])
            {
                return 1;
            }
        }
        return trigger.Ids.Length;
    }

    /// <summary>
    /// Multiplies each position's hidden state by its weight, then rescales the whole tensor so its mean
    /// equals the original mean (A1111's "original" emphasis), so weighting changes emphasis, not scale.
    /// </summary>
    /// <param name="hidden">Row-major [sequence, width] hidden states of one prompt, changed in place.</param>
    /// <param name="weights">One weight per sequence position.</param>
    public static void ApplyWeights(Span<float> hidden, ReadOnlySpan<float> weights)
    {
        if (weights.Length == 0 || hidden.Length % weights.Length != 0)
        {
            throw new ArgumentException($"Hidden states ({hidden.Length}) are not a whole number of rows of {weights.Length} weights.", nameof(weights));
        }
        var width = hidden.Length / weights.Length;
        double originalSum = 0;
        foreach (var v in hidden)
        {
            originalSum += v;
        }
        double weightedSum = 0;
        for (var row = 0; row < weights.Length; row++)
        {
            var slice = hidden.Slice(row * width, width);
            for (var i = 0; i < slice.Length; i++)
            {
                slice[i] *= weights[row];
                weightedSum += slice[i];
            }
        }
        if (weightedSum == 0)
        {
            return;
        }
        var rescale = (float)(originalSum / weightedSum);
        for (var i = 0; i < hidden.Length; i++)
        {
            hidden[i] *= rescale;
        }
    }
}
