using Bunit;
using T2IStudio.Web.Components.Inpaint;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components.Inpaint;

public sealed class InpaintCompareTests : StudioComponentTestBase
{
    private static readonly Guid Before = Guid.Parse("11111111-1111-1111-1111-111111111111");
    private static readonly Guid After = Guid.Parse("22222222-2222-2222-2222-222222222222");

    [Fact]
    public void Before_and_after_share_a_frame_of_the_sources_shape_split_in_the_middle()
    {
        var compare = RenderCompare(After);

        Assert.Equal($"/images/{Before}", compare.Find("img[alt=Before]").GetAttribute("src"));
        var after = compare.Find("[data-testid=inpaint-result]");
        Assert.Equal(($"/images/{After}", After.ToString()), (after.GetAttribute("src"), after.GetAttribute("data-image-id")));
        Assert.Equal("--split: 50%; aspect-ratio: 96 / 64;", compare.Find(".studio-compare").GetAttribute("style"));
        Assert.Equal("50", compare.Find("input[type=range]").GetAttribute("value"));
        Assert.Equal("Compare", compare.Find("label.studio-range span").TextContent);
    }

    [Fact]
    public void The_slider_moves_the_split_within_0_to_100_and_a_new_result_starts_in_the_middle_again()
    {
        var compare = RenderCompare(After);

        compare.Find("input[type=range]").Input("30");
        Assert.StartsWith("--split: 30%;", compare.Find(".studio-compare").GetAttribute("style"), StringComparison.Ordinal);
        compare.Find("input[type=range]").Input("140");
        Assert.StartsWith("--split: 100%;", compare.Find(".studio-compare").GetAttribute("style"), StringComparison.Ordinal);

        compare.Render(p => p.Add(c => c.ResultId, Guid.NewGuid()));
        Assert.StartsWith("--split: 50%;", compare.Find(".studio-compare").GetAttribute("style"), StringComparison.Ordinal);
    }

    [Fact]
    public void Continue_editing_and_Open_result_raise_the_result()
    {
        var continued = new List<Guid>();
        var opened = new List<Guid>();
        var compare = RenderCompare(After, continued.Add, opened.Add);

        compare.FindAll("button").Single(b => b.TextContent.Trim() == "Continue editing").Click();
        compare.FindAll("button").Single(b => b.TextContent.Trim() == "Open result").Click();

        Assert.Equal([After], continued);
        Assert.Equal([After], opened);
    }

    private IRenderedComponent<InpaintCompare> RenderCompare(Guid result, Action<Guid>? continueEditing = null, Action<Guid>? openResult = null) =>
        Render<InpaintCompare>(p => p
            .Add(c => c.BeforeUrl, $"/images/{Before}")
            .Add(c => c.ResultId, result)
            .Add(c => c.Width, 96)
            .Add(c => c.Height, 64)
            .Add(c => c.OnContinueEditing, continueEditing ?? (_ => { }))
            .Add(c => c.OnOpenResult, openResult ?? (_ => { })));
}
