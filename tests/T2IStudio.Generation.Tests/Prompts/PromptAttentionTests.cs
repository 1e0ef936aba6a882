using T2IStudio.Generation.Prompts;
using T2IStudio.Generation.Tokenization;

namespace T2IStudio.Generation.Tests.Prompts;

public sealed class PromptAttentionTests
{
    // The examples from A1111's own parse_prompt_attention docstring, with its numbers.
    public static TheoryData<string, (string, double)[]> A1111Examples() => new()
    {
        { "normal text", [("normal text", 1.0)] },
        { "an (important) word", [("an ", 1.0), ("important", 1.1), (" word", 1.0)] },
        { "(unbalanced", [("unbalanced", 1.1)] },
        { @"\(literal\]", [("(literal]", 1.0)] },
        { "(unnecessary)(parens)", [("unnecessaryparens", 1.1)] },
        {
            "a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).",
            [("a ", 1.0), ("house", 1.5730000000000004), (" ", 1.1), ("on", 1.0), (" a ", 1.1), ("hill", 0.55), (", sun, ", 1.1), ("sky", 1.4641000000000006), (".", 1.1)]
        },
    };

    [Theory]
    [MemberData(nameof(A1111Examples))]
    public void Parses_like_A1111(string prompt, (string, double)[] expected)
    {
        var runs = PromptAttention.Parse(prompt);
        Assert.Equal(expected.Select(e => e.Item1), runs.Select(r => r.Text));
        Assert.Equal(expected.Length, runs.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Item2, runs[i].Weight, 12);
        }
    }

    [Fact]
    public void Square_brackets_divide_by_1_1_and_nest()
    {
        var runs = PromptAttention.Parse("[[faint]] (bold:1.5)");
        Assert.Equal(1 / 1.21, runs[0].Weight, 12);
        Assert.Equal("faint", runs[0].Text);
        Assert.Equal(1.5, runs[2].Weight, 12);
    }

    [Fact]
    public void Empty_prompt_is_one_empty_run()
    {
        var run = Assert.Single(PromptAttention.Parse(""));
        Assert.Equal(new WeightedText("", 1.0), run);
    }

    [Fact]
    public void Weighted_tokens_carry_each_runs_weight_and_frame_with_neutral_weights()
    {
        var tokenizer = ClipTokenizer.FromFolder(Path.Combine(AppContext.BaseDirectory, "TestData", "clip-tokenizer"));
        var encoded = WeightedPromptEncoder.Encode(tokenizer, "a (cat:1.5) [photo]");
        Assert.Equal(tokenizer.EncodeForModel("a cat photo"), encoded.Ids);
        Assert.Equal(3, encoded.TokenCount);
        float[] expected = [1f, 1f, 1.5f, (float)(1 / 1.1), 1f];
        Assert.Equal(expected, encoded.Weights[..5]);
        Assert.All(encoded.Weights[5..], w => Assert.Equal(1f, w));
        Assert.False(encoded.IsUniform);
        Assert.True(WeightedPromptEncoder.Encode(tokenizer, "a cat").IsUniform);
    }

    [Fact]
    public void Applying_weights_scales_rows_and_restores_the_original_mean()
    {
        // Two positions of width 2: [1, 3] and [2, 2]; mean 2. Weight the first row by 2.
        float[] hidden = [1, 3, 2, 2];
        WeightedPromptEncoder.ApplyWeights(hidden, [2f, 1f]);
        // Weighted: [2, 6, 2, 2] (mean 3), rescaled by 2/3.
        float[] expected = [4f / 3, 4f, 4f / 3, 4f / 3];
        for (var i = 0; i < hidden.Length; i++)
        {
            Assert.Equal(expected[i], hidden[i], 5);
        }
        Assert.Equal(2f, hidden.Average(), 5);
    }
}
