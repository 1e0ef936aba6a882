using Bunit;
using T2IStudio.Web.Components.Gallery;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components.Gallery;

public sealed class GalleryFiltersTests : StudioComponentTestBase
{
    [Fact]
    public void Favourites_only_raises_the_whole_choice_with_the_other_filters_kept()
    {
        var raised = new List<GalleryFilterChoice>();
        var bar = Render<GalleryFilters>(p => p
            .Add(f => f.Value, new GalleryFilterChoice(Search: "red", Days: 7))
            .Add(f => f.ValueChanged, (GalleryFilterChoice choice) => raised.Add(choice))
            .Add(f => f.Models, ["t2istudio-tiny"]));

        bar.Find("input[type=checkbox]").Change(true);

        Assert.Equal([new GalleryFilterChoice("red", "", 7, FavoritesOnly: true)], raised);
        Assert.True(raised[0].IsFiltered);
    }

    [Fact]
    public void Typing_a_search_raises_it_trimmed()
    {
        GalleryFilterChoice? raised = null;
        var bar = Render<GalleryFilters>(p => p.Add(f => f.ValueChanged, (GalleryFilterChoice choice) => raised = choice));

        var search = bar.FindAll("input").Single(i => i.Id == LabelTarget(bar, "Search prompts"));
        search.Input("  a red circle ");

        // The field waits for a pause in the typing before it reports.
        bar.WaitForAssertion(() => Assert.Equal(new GalleryFilterChoice(Search: "a red circle"), raised));
    }

    [Fact]
    public void The_bar_names_its_fields_as_people_and_tests_find_them()
    {
        var bar = Render<GalleryFilters>();

        Assert.Contains(bar.FindAll("label"), l => l.TextContent.Trim() == "Search prompts");
        Assert.Contains(bar.FindAll("label"), l => l.TextContent.Trim() == "Model");
        Assert.Contains(bar.FindAll("label"), l => l.TextContent.Trim() == "Made");
        Assert.Contains(bar.FindAll("label"), l => l.TextContent.Trim() == "Favourites only");
    }

    [Fact]
    public void Review_state_shows_only_for_a_reviewed_gallery_and_narrows_the_filter()
    {
        Assert.DoesNotContain(Render<GalleryFilters>().FindAll("label"), l => l.TextContent.Trim() == "Review state");
        var bar = Render<GalleryFilters>(p => p.Add(f => f.ShowReview, true));
        Assert.Contains(bar.FindAll("label"), l => l.TextContent.Trim() == "Review state");

        var choice = new GalleryFilterChoice(Review: T2IStudio.Data.Entities.ReviewState.Approved);
        Assert.True(choice.IsFiltered);
        Assert.Equal(T2IStudio.Data.Entities.ReviewState.Approved, choice.ToFilter(DateTimeOffset.UnixEpoch).Review);
        Assert.Null(new GalleryFilterChoice().ToFilter(DateTimeOffset.UnixEpoch).Review);
    }

    [Fact]
    public void No_choice_filters_nothing_and_made_counts_today_as_the_first_day()
    {
        var now = new DateTimeOffset(2026, 3, 10, 15, 30, 0, TimeSpan.Zero);

        Assert.False(new GalleryFilterChoice().IsFiltered);
        Assert.Equal(new T2IStudio.Web.Images.GalleryFilter(""), new GalleryFilterChoice().ToFilter(now));
        Assert.Equal(new DateTime(2026, 3, 10), new GalleryFilterChoice(Days: 1).ToFilter(now).Since!.Value.Date);
        Assert.Equal(new DateTime(2026, 3, 4), new GalleryFilterChoice(Days: 7).ToFilter(now).Since!.Value.Date);
        Assert.Equal("sd-turbo", new GalleryFilterChoice(Model: "sd-turbo").ToFilter(now).Model);
    }

    private static string LabelTarget(IRenderedComponent<GalleryFilters> bar, string label) =>
        bar.FindAll("label").First(l => l.TextContent.Trim() == label).GetAttribute("for")!;
}
