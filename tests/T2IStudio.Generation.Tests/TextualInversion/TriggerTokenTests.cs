using T2IStudio.Generation.Prompts;
using T2IStudio.Generation.Tokenization;

namespace T2IStudio.Generation.Tests.TextualInversion;

public sealed class TriggerTokenTests
{
    private static readonly Lazy<ClipTokenizer> Plain = new(() => ClipTokenizer.FromFolder(Path.Combine(AppContext.BaseDirectory, "TestData", "clip-tokenizer")));

    private static ClipTokenizer WithTriggers() => Plain.Value.WithAddedTokens(
        [new AddedToken("pink-style", [49408, 49409, 49410]), new AddedToken("pink", [49411])],
        [new RefusedToken("sdxl-thing", "its vectors are 1280 wide and this model's text encoder takes 768.")]);

    [Fact]
    public void A_trigger_becomes_its_ids_as_a_whole_word_in_any_case_and_the_rest_tokenizes_as_before()
    {
        var tokenizer = WithTriggers();

        var ids = tokenizer.Encode("a photo of a Pink-Style cat, PINK");

        int[] expected = [.. Plain.Value.Encode("a photo of a"), 49408, 49409, 49410, .. Plain.Value.Encode("cat,"), 49411];
        Assert.Equal(expected, ids);
        Assert.Equal(Plain.Value.Encode("pinkish pinks pink2"), tokenizer.Encode("pinkish pinks pink2"));
        Assert.Equal(Plain.Value.Encode("a photo of a cat"), tokenizer.Encode("a photo of a cat"));
    }

    [Fact]
    public void The_counter_counts_a_trigger_as_its_vectors_and_the_window_frames_them()
    {
        var tokenizer = WithTriggers();

        Assert.Equal(Plain.Value.CountTokens("a cat") + 3, tokenizer.CountTokens("a pink-style cat"));
        var framed = tokenizer.EncodeForModel("pink-style");
        Assert.Equal([ClipTokenizer.BeginOfText, 49408, 49409, 49410, ClipTokenizer.EndOfText], framed[..5]);

        var crowded = string.Join(' ', Enumerable.Repeat("pink-style", 30)); // 90 tokens: past the 75-token window
        var weighted = WeightedPromptEncoder.Encode(tokenizer, crowded);
        Assert.Equal(90, weighted.TokenCount);
        Assert.Equal(ClipTokenizer.EndOfText, weighted.Ids[76]);
        Assert.Equal([49408, 49409, 49410], weighted.Ids[73..76]); // the 25th trigger fills the window's last three places
    }

    [Fact]
    public void Weighting_syntax_weighs_every_vector_of_the_trigger()
    {
        var weighted = WeightedPromptEncoder.Encode(WithTriggers(), "a (pink-style:1.5) cat");

        var a = Plain.Value.Encode("a").Count;
        Assert.Equal([49408, 49409, 49410], weighted.Ids[(1 + a)..(4 + a)]);
        Assert.Equal([1.5f, 1.5f, 1.5f], weighted.Weights[(1 + a)..(4 + a)]);
        Assert.Equal(1f, weighted.Weights[4 + a]);
    }

    [Fact]
    public void A_refused_trigger_stops_the_prompt_with_the_reason()
    {
        var ex = Assert.Throws<EmbeddingRefusedException>(() => WithTriggers().Encode("a SDXL-thing cat"));

        Assert.Equal("The embedding 'sdxl-thing' cannot be used with this model: its vectors are 1280 wide and this model's text encoder takes 768.", ex.Message);
        Assert.IsAssignableFrom<ArgumentException>(ex); // the worker shows an ArgumentException's message to the job's owner
    }
}
