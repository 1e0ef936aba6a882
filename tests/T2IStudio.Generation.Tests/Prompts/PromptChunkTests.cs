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
    public void A_multi_vector_embedding_at_the_boundary_moves_whole_into_the_next_chunk()
    {
        var cat = Tokenizer.Encode("cat")[0];
        int[] glow = [ClipTokenizer.VocabularySize, ClipTokenizer.VocabularySize + 1, ClipTokenizer.VocabularySize + 2];
        var tokenizer = Tokenizer.WithAddedTokens([new AddedToken("glow", glow)]);

        // 73 cats leave 2 places in the first window: the 3 vectors of "glow" do not fit there.
        var chunks = WeightedPromptEncoder.EncodeChunks(tokenizer, Words(73) + " (glow:1.2) cat", 8);

        Assert.Equal(2, chunks.Count);
        Assert.Equal([ClipTokenizer.BeginOfText, .. Enumerable.Repeat(cat, 73), ClipTokenizer.EndOfText], chunks[0].Ids[..75]);
        Assert.All(chunks[0].Ids[75..], id => Assert.Equal(tokenizer.PadToken, id));
        Assert.True(chunks[0].IsUniform);
        Assert.Equal([ClipTokenizer.BeginOfText, .. glow, cat, ClipTokenizer.EndOfText], chunks[1].Ids[..6]);
        Assert.Equal([1f, 1.2f, 1.2f, 1.2f, 1f], chunks[1].Weights[..5]);
        Assert.Equal(77, chunks[0].TokenCount);

        // With room for all three it stays in the first chunk.
        var fits = WeightedPromptEncoder.EncodeChunks(tokenizer, Words(72) + " glow", 8);
        Assert.Equal([.. glow, ClipTokenizer.EndOfText], Assert.Single(fits).Ids[73..77]);
    }

    [Fact]
    public void An_empty_prompt_is_one_empty_chunk()
    {
        var chunk = Assert.Single(WeightedPromptEncoder.EncodeChunks(Tokenizer, "", 8));

        Assert.Equal(Tokenizer.EncodeForModel(""), chunk.Ids);
    }
}
