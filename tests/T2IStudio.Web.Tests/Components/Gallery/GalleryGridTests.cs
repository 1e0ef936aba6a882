using Bunit;
using T2IStudio.Web.Components.Gallery;
using T2IStudio.Web.Images;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components.Gallery;

public sealed class GalleryGridTests : StudioComponentTestBase
{
    private static readonly ImageTile[] Tiles =
    [
        new(Guid.NewGuid(), "a red circle", "t2istudio-tiny", 64, 64, DateTimeOffset.UnixEpoch, IsFavorite: true),
        new(Guid.NewGuid(), "a blue square", "t2istudio-tiny", 64, 64, DateTimeOffset.UnixEpoch, IsFavorite: false),
        new(Guid.NewGuid(), "a green triangle", "t2istudio-tiny", 64, 64, DateTimeOffset.UnixEpoch, IsFavorite: false),
    ];

    [Fact]
    public void Each_image_is_a_tile_that_opens_it_and_favourites_carry_a_star()
    {
        var opened = new List<Guid>();
        var grid = Render<GalleryGrid>(p => p
            .Add(g => g.LoadPage, LoadPage)
            .Add(g => g.Total, Tiles.Length)
            .Add(g => g.OnOpen, (Guid id) => opened.Add(id)));

        grid.WaitForAssertion(() => Assert.Equal(
            ["Open image: a red circle", "Open image: a blue square", "Open image: a green triangle"],
            grid.FindAll("[role=region][aria-label=Images] button").Select(b => b.GetAttribute("aria-label"))));
        Assert.Single(grid.FindAll("[aria-label=Favourite]"));
        Assert.NotNull(grid.Find("button[aria-label='Open image: a red circle'] [aria-label=Favourite]"));

        grid.Find("button[aria-label='Open image: a blue square']").Click();
        Assert.Equal([Tiles[1].Id], opened);
    }

    [Fact]
    public void A_load_that_finds_another_total_reports_it()
    {
        var totals = new List<int>();
        var grid = Render<GalleryGrid>(p => p
            .Add(g => g.LoadPage, LoadPage)
            .Add(g => g.Total, 1)
            .Add(g => g.TotalChanged, (int total) => totals.Add(total)));

        grid.WaitForAssertion(() => Assert.Equal([Tiles.Length], totals.Distinct()));
    }

    [Fact]
    public async Task The_columns_the_script_reports_set_how_many_tiles_share_a_row()
    {
        var module = JSInterop.SetupModule("./Components/Gallery/GalleryGrid.razor.js");
        var grid = Render<GalleryGrid>(p => p.Add(g => g.LoadPage, LoadPage).Add(g => g.Total, Tiles.Length));
        grid.WaitForAssertion(() => Assert.Single(grid.FindAll(".studio-gallery-row")));
        Assert.Single(module.Invocations["observeColumns"]);

        await grid.InvokeAsync(() => grid.Instance.SetColumns(2, 416));

        grid.WaitForAssertion(() => Assert.Equal([2, 1], grid.FindAll(".studio-gallery-row").Select(r => r.QuerySelectorAll("button").Length)));
        Assert.All(grid.FindAll(".studio-gallery-row"), r => Assert.Contains("repeat(2,", r.GetAttribute("style"), StringComparison.Ordinal));
    }

    private static Task<(IReadOnlyList<ImageTile> Tiles, int Total)> LoadPage(int skip, int take, CancellationToken cancellationToken) =>
        Task.FromResult<(IReadOnlyList<ImageTile>, int)>(([.. Tiles.Skip(skip).Take(take)], Tiles.Length));
}
