using T2IStudio.Web.Styles;

namespace T2IStudio.Web.Tests.Styles;

public sealed class StyleExpansionTests
{
    [Theory]
    [InlineData("a cat", "oil painting of {prompt}, warm light", "oil painting of a cat, warm light")]
    [InlineData("a cat", "{prompt}, oil painting", "a cat, oil painting")]
    [InlineData("a cat", "oil painting, {prompt}", "oil painting, a cat")]
    [InlineData("  a cat  ", "  {prompt}  ", "a cat")]
    [InlineData("(a cat:1.2)", "[{prompt}]", "[(a cat:1.2)]")]
    public void The_persons_prompt_replaces_the_placeholder(string prompt, string style, string expected) =>
        Assert.Equal(expected, StyleExpansion.Prompt(prompt, style));

    [Theory]
    [InlineData("a cat", "oil painting, warm light", "a cat, oil painting, warm light")]
    [InlineData("a cat,", "oil painting", "a cat, oil painting")]
    [InlineData("a cat", ", oil painting", "a cat, oil painting")]
    [InlineData("  a cat \n", "\t oil painting ", "a cat, oil painting")]
    public void Without_a_placeholder_the_style_follows_the_prompt_joined_by_one_comma(string prompt, string style, string expected) =>
        Assert.Equal(expected, StyleExpansion.Prompt(prompt, style));

    [Theory]
    [InlineData("", "oil painting", "oil painting")]
    [InlineData("   ", "oil painting", "oil painting")]
    [InlineData("", "{prompt}, oil painting", "oil painting")]
    [InlineData("", "oil painting, {prompt}", "oil painting")]
    [InlineData("", "portrait, {prompt}, warm light", "portrait, warm light")]
    [InlineData("", "oil painting of {prompt}", "oil painting of")]
    [InlineData("", "{prompt}", "")]
    [InlineData("a cat", "", "a cat")]
    [InlineData("a cat", "   ", "a cat")]
    [InlineData("", "", "")]
    public void An_empty_side_leaves_no_dangling_comma(string prompt, string style, string expected) =>
        Assert.Equal(expected, StyleExpansion.Prompt(prompt, style));

    [Theory]
    [InlineData("blurry", "lowres, watermark", "blurry, lowres, watermark")]
    [InlineData("", "lowres", "lowres")]
    [InlineData("blurry", "", "blurry")]
    [InlineData("blurry, ", " ,lowres", "blurry, lowres")]
    [InlineData(null, null, "")]
    public void The_styles_negative_follows_the_persons(string? negative, string? style, string expected) =>
        Assert.Equal(expected, StyleExpansion.NegativePrompt(negative, style));

    [Fact]
    public void Placeholders_are_counted_and_detected()
    {
        Assert.Equal(0, StyleExpansion.PlaceholderCount("oil"));
        Assert.Equal(2, StyleExpansion.PlaceholderCount("{prompt} and {prompt}"));
        Assert.Equal(0, StyleExpansion.PlaceholderCount(null));
        Assert.True(StyleExpansion.HasPlaceholder("x {prompt}"));
        Assert.False(StyleExpansion.HasPlaceholder("x {Prompt}"));
    }
}
