using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Images;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Prompts;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Storage;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>The gallery's queries on real generated images: search, filters, order, favourites, deletion, prompt history.</summary>
public class GalleryTests : IClassFixture<GalleryTests.ThreeImages>
{
    private readonly ThreeImages _world;

    public GalleryTests(ThreeImages world) => _world = world;

    /// <summary>The app under test, as <c>new StudioAppFactory(storageRoot, settings)</c>; a derived class runs the same tests on another engine.</summary>
    protected virtual StudioAppFactory NewApp(string? storageRoot = null, IDictionary<string, string?>? settings = null) => new(storageRoot, settings);

    /// <summary>One person with three images from three prompts, made in this order.</summary>
    public class ThreeImages : IAsyncLifetime
    {
        /// <summary>On SQLite.</summary>
        public ThreeImages()
            : this(new StudioAppFactory())
        {
        }

        /// <summary>On the given app (another engine).</summary>
        protected ThreeImages(StudioAppFactory app) => App = app;

        public StudioAppFactory App { get; }

        public AppUser Owner { get; private set; } = null!;

        public List<Guid> Images { get; } = [];

        public async Task InitializeAsync()
        {
            Owner = await App.CreateUserAsync("gallery@example.test");
            foreach (var prompt in new[] { "a red circle on a blue background", "a green triangle", "two red squares, (tiny:1.2)" })
            {
                Images.Add((await App.GenerateAsync(Owner, GenerationQueueTests.Request(prompt: prompt, steps: 4))).ImageIds.Single());
            }
        }

        public Task DisposeAsync()
        {
            App.Dispose();
            return Task.CompletedTask;
        }

        public static ImageLibrary Library(IServiceScope scope) => scope.ServiceProvider.GetRequiredService<ImageLibrary>();
    }

    private async Task<IReadOnlyList<Guid>> IdsAsync(GalleryFilter filter)
    {
        using var scope = _world.App.Services.CreateScope();
        var (tiles, total) = await ThreeImages.Library(scope).PageAsync(StudioAppFactory.PrincipalOf(_world.Owner), filter, 0, 100);
        Assert.Equal(total, tiles.Count);
        return [.. tiles.Select(t => t.Id)];
    }

    [Fact]
    public async Task The_grid_lists_newest_first_and_pages_without_gaps_or_repeats()
    {
        Assert.Equal([_world.Images[2], _world.Images[1], _world.Images[0]], await IdsAsync(new GalleryFilter()));
        using var scope = _world.App.Services.CreateScope();
        var library = ThreeImages.Library(scope);
        var owner = StudioAppFactory.PrincipalOf(_world.Owner);
        var first = await library.PageAsync(owner, new GalleryFilter(), 0, 2);
        var second = await library.PageAsync(owner, new GalleryFilter(), 2, 2);
        Assert.Equal(3, first.Total);
        Assert.Equal([_world.Images[2], _world.Images[1], _world.Images[0]], first.Tiles.Concat(second.Tiles).Select(t => t.Id));
    }

    [Fact]
    public async Task Search_matches_prompt_words_by_prefix_in_any_order_and_treats_operators_as_text()
    {
        Assert.Equal([_world.Images[2], _world.Images[0]], await IdsAsync(new GalleryFilter("red")));
        Assert.Equal([_world.Images[0]], await IdsAsync(new GalleryFilter("blue circ")));
        Assert.Equal([_world.Images[0]], await IdsAsync(new GalleryFilter("CIRCLE Red")));
        Assert.Equal([_world.Images[1]], await IdsAsync(new GalleryFilter("tri")));
        Assert.Empty(await IdsAsync(new GalleryFilter("purple")));
        Assert.Equal([_world.Images[2]], await IdsAsync(new GalleryFilter("\"tiny\" squares* -red:")));
        Assert.Equal(3, (await IdsAsync(new GalleryFilter("  ()*\" "))).Count); // nothing searchable: no filter
    }

    [Fact]
    public async Task Filters_by_model_date_and_favourite_combine_with_search()
    {
        using var scope = _world.App.Services.CreateScope();
        var library = ThreeImages.Library(scope);
        var owner = StudioAppFactory.PrincipalOf(_world.Owner);

        Assert.Equal(3, (await IdsAsync(new GalleryFilter(Model: "t2istudio-tiny"))).Count);
        Assert.Empty(await IdsAsync(new GalleryFilter(Model: "another-model")));
        Assert.Equal(3, (await IdsAsync(new GalleryFilter(Since: DateTimeOffset.UtcNow.AddDays(-1)))).Count);
        Assert.Empty(await IdsAsync(new GalleryFilter(Since: DateTimeOffset.UtcNow.AddDays(1))));
        Assert.Equal(["t2istudio-tiny"], await library.ModelsAsync(owner));

        Assert.True(await library.SetFavoriteAsync(owner, _world.Images[0], true));
        try
        {
            Assert.Equal([_world.Images[0]], await IdsAsync(new GalleryFilter(FavoritesOnly: true)));
            Assert.Equal([_world.Images[0]], await IdsAsync(new GalleryFilter("red", FavoritesOnly: true)));
            Assert.Empty(await IdsAsync(new GalleryFilter("green", FavoritesOnly: true)));
        }
        finally
        {
            await library.SetFavoriteAsync(owner, _world.Images[0], false);
        }
    }

    [Fact]
    public async Task The_lightbox_steps_to_older_and_newer_neighbours_within_the_filter()
    {
        using var scope = _world.App.Services.CreateScope();
        var library = ThreeImages.Library(scope);
        var owner = StudioAppFactory.PrincipalOf(_world.Owner);

        Assert.Equal(_world.Images[1], await library.NeighbourAsync(owner, _world.Images[2], new GalleryFilter(), older: true));
        Assert.Equal(_world.Images[2], await library.NeighbourAsync(owner, _world.Images[1], new GalleryFilter(), older: false));
        Assert.Null(await library.NeighbourAsync(owner, _world.Images[0], new GalleryFilter(), older: true));
        Assert.Equal(_world.Images[0], await library.NeighbourAsync(owner, _world.Images[2], new GalleryFilter("red"), older: true));
    }

    [Fact]
    public async Task Prompt_history_holds_each_prompt_once_most_recent_first_and_searches_case_insensitively()
    {
        using var scope = _world.App.Services.CreateScope();
        var history = scope.ServiceProvider.GetRequiredService<PromptHistory>();
        var owner = StudioAppFactory.PrincipalOf(_world.Owner);

        var all = await history.SearchAsync(owner, null);
        Assert.Equal(["two red squares, (tiny:1.2)", "a green triangle", "a red circle on a blue background"], all.Select(p => p.Text));
        Assert.Equal(["two red squares, (tiny:1.2)", "a red circle on a blue background"], (await history.SearchAsync(owner, "RED")).Select(p => p.Text));
        Assert.Equal(["two red squares, (tiny:1.2)"], (await history.SearchAsync(owner, "(tiny")).Select(p => p.Text));
        Assert.Empty(await history.SearchAsync(owner, "%"));
    }

    [Fact]
    public async Task Deleting_an_image_removes_its_row_and_both_files_and_tells_the_owners_pages()
    {
        using var app = NewApp();
        var owner = await app.CreateUserAsync("deleter@example.test");
        using var waiter = new JobWaiter(app.Services, owner.Id);
        var imageId = (await app.GenerateAsync(owner, GenerationQueueTests.Request(steps: 2))).ImageIds.Single();
        using var scope = app.Services.CreateScope();
        var principal = StudioAppFactory.PrincipalOf(owner);
        var library = scope.ServiceProvider.GetRequiredService<ImageLibrary>();
        var image = (await library.GetAsync(principal, imageId))!;
        var store = app.Services.GetRequiredService<ImageStore>();
        Assert.True(File.Exists(store.PathOf(image.FileKey)));

        Assert.True(await library.DeleteAsync(principal, imageId));

        Assert.Null(await library.GetAsync(principal, imageId));
        Assert.False(File.Exists(store.PathOf(image.FileKey)));
        Assert.False(File.Exists(store.ThumbnailPathOf(image.FileKey)));
        Assert.Equal(2, waiter.Events.OfType<GalleryChanged>().Count()); // one when it was made, one when it went
        Assert.False(await library.DeleteAsync(principal, imageId));
    }
}
