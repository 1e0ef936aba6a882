using T2IStudio.Generation.Onnx;
using T2IStudio.Generation.Prompts;
using T2IStudio.Generation.Tokenization;

namespace T2IStudio.Generation.Pipelines;

/// <summary>A prompt's text conditioning from one encoder, or from SDXL's two concatenated.</summary>
/// <param name="Hidden">Row-major [Chunks × 77, Width] hidden states.</param>
/// <param name="Chunks">How many 77-token chunks the prompt was encoded in.</param>
/// <param name="Width">Hidden width per token.</param>
/// <param name="Pooled">SDXL's pooled <c>text_embeds</c> of the first chunk; null for other families.</param>
internal sealed record PromptEmbedding(float[] Hidden, int Chunks, int Width, float[]? Pooled)
{
    /// <summary>Tokens along the sequence (77 per chunk).</summary>
    public int Sequence => Chunks * ClipTokenizer.SequenceLength;
}

/// <summary>
/// One text encoder with its own tokenizer: the one place a prompt becomes this encoder's hidden states, A1111
/// weights and 77-token chunks applied, so each encoder of a model (SDXL has two) is encoded the same way.
/// </summary>
/// <param name="tokenizer">The encoder's tokenizer (its own pad token).</param>
/// <param name="session">The encoder's graph.</param>
/// <param name="hiddenOutput">The output the UNet conditions on: <c>last_hidden_state</c>, or SDXL's penultimate <c>hidden_states.N</c>.</param>
/// <param name="pooledOutput">SDXL's pooled output (<c>text_embeds</c>), read from the first chunk; null when unused.</param>
internal sealed class PromptTextEncoder(ClipTokenizer tokenizer, OnnxComponent session, string? hiddenOutput, string? pooledOutput)
{
    /// <summary>The encoder's tokenizer.</summary>
    public ClipTokenizer Tokenizer { get; } = tokenizer;

    /// <summary>The encoder's graph.</summary>
    public OnnxComponent Session { get; } = session;

    /// <summary>Encodes <paramref name="prompt"/> in up to <paramref name="maxChunks"/> chunks.</summary>
    public PromptEmbedding Encode(string prompt, int maxChunks)
    {
        var chunks = WeightedPromptEncoder.EncodeChunks(Tokenizer, prompt, maxChunks);
        var hiddenName = hiddenOutput ?? Session.OutputNames[0];
        float[]? hidden = null;
        float[]? pooled = null;
        var width = 0;
        for (var c = 0; c < chunks.Count; c++)
        {
            var chunk = chunks[c];
            var ids = chunk.Ids.Select(id => (long)id).ToArray();
            ComponentInput[] input = [ComponentInput.OfIntegers("input_ids", ids, 1, ClipTokenizer.SequenceLength)];
            var outputs = c == 0 && pooledOutput is not null
                ? Session.Run(input, [hiddenName, pooledOutput])
                : [Session.Run(input, hiddenName)];
            var values = outputs[0].Values;
            if (!chunk.IsUniform)
            {
                WeightedPromptEncoder.ApplyWeights(values, chunk.Weights);
            }
            width = values.Length / ClipTokenizer.SequenceLength;
            hidden ??= new float[chunks.Count * values.Length];
            values.CopyTo(hidden, c * values.Length);
            if (outputs.Count > 1)
            {
                pooled = outputs[1].Values;
            }
        }
        return new PromptEmbedding(hidden!, chunks.Count, width, pooled);
    }
}
