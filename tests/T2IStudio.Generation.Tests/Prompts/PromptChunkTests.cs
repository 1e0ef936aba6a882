using T2IStudio.Generation.Prompts;
using T2IStudio.Generation.Tests.Pipelines;
using T2IStudio.Generation.Tokenization;

namespace T2IStudio.Generation.Tests.Prompts;

public sealed class PromptChunkTests
{
    private static readonly ClipTokenizer Tokenizer = FixtureMath.Tokenizer;

    private static string Words(int count) => string.Join(' ', Enumerable.Repeat("cat", count));

    [Fact]
    public void One_chunk_is_the_single_window_with_the_rest_cut()
    {
        var one = Assert.Single(WeightedPromptEncoder.EncodeChunks(Tokenizer, Words(100) + " (dog:1.2)", 1));
        var window = WeightedPromptEncoder.Encode(Tokenizer, Words(100) + " (dog:1.2)");

        Assert.Equal(window.Ids, one.Ids);
        Assert.Equal(window.Weights, one.Weights);
        Assert.Equal(101, one.TokenCount);
    }

    [Fact]
    public void Long_prompts_split_every_75_tokens_each_chunk_framed_and_weighted_on_its_own()
    {
        var cat = Tokenizer.Encode("cat")[0];
        var dog = Tokenizer.Encode("dog")[0];

        var chunks = WeightedPromptEncoder.EncodeChunks(Tokenizer, Words(80) + " (dog:1.5)", 8);

        Assert.Equal(2, chunks.Count);
        Assert.Equal([ClipTokenizer.BeginOfText, .. Enumerable.Repeat(cat, 75), ClipTokenizer.EndOfText], chunks[0].Ids);
        Assert.True(chunks[0].IsUniform);
        int[] second = [ClipTokenizer.BeginOfText, .. Enumerable.Repeat(cat, 5), dog, ClipTokenizer.EndOfText];
        Assert.Equal(second, chunks[1].Ids[..8]);
        Assert.All(chunks[1].Ids[8..], id => Assert.Equal(Tokenizer.PadToken, id));
        Assert.Equal(1.5f, chunks[1].Weights[6]);
        Assert.Equal(1f, chunks[1].Weights[5]);
    }

    [Fact]
    public void Break_starts_a_new_chunk_and_chunks_past_the_limit_are_cut()
    {
        var chunks = WeightedPromptEncoder.EncodeChunks(Tokenizer, "red BREAK blue BREAK green", 2);

        Assert.Equal(2, chunks.Count);
        Assert.Equal(Tokenizer.EncodeForModel("red"), chunks[0].Ids);
        Assert.Equal(Tokenizer.EncodeForModel("blue"), chunks[1].Ids);
    }

    [Fact]
    public void An_empty_prompt_is_one_empty_chunk()
    {
        var chunk = Assert.Single(WeightedPromptEncoder.EncodeChunks(Tokenizer, "", 8));

        Assert.Equal(Tokenizer.EncodeForModel(""), chunk.Ids);
    }
}
