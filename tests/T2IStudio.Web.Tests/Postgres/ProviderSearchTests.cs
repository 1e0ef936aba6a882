using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Web.Comments;
using T2IStudio.Web.Images;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Tests.Integration;

namespace T2IStudio.Web.Tests.Postgres;

/// <summary>Gallery search finds the same images on SQLite (FTS5) and PostgreSQL (tsvector with unaccent).</summary>
public sealed class ProviderSearchTests
{
    [Theory]
    [MemberData(nameof(Providers.Both), MemberType = typeof(Providers))]
    public async Task Search_matches_prompt_words_by_prefix_in_any_order_ignoring_case_and_diacritics_and_comment_text_ignoring_case(string provider)
    {
        await using var app = await Providers.StartAsync(provider);
        var owner = await app.CreateUserAsync("search@example.test");
        var prompts = new[] { "a red circle on a blue background", "Café crème, ÉTÉ at Zürich", "two red squares, (tiny:1.2)" };
        var ids = new List<Guid>();
        foreach (var prompt in prompts)
        {
            ids.Add((await app.GenerateAsync(owner, GenerationQueueTests.Request(prompt: prompt, steps: 2))).ImageIds.Single());
        }
        using var scope = app.Services.CreateScope();
        var library = scope.ServiceProvider.GetRequiredService<ImageLibrary>();
        var principal = StudioAppFactory.PrincipalOf(owner);
        Assert.True((await scope.ServiceProvider.GetRequiredService<CommentService>().AddAsync(principal, ids[1], "Needs MORE Contrast_100%")).Succeeded);

        async Task<IReadOnlyList<Guid>> Find(string search) =>
            [.. (await library.PageAsync(principal, new GalleryFilter(search), 0, 10)).Tiles.Select(t => t.Id)];

        Assert.Equal([ids[2], ids[0]], await Find("red"));
        Assert.Equal([ids[0]], await Find("blue circ"));
        Assert.Equal([ids[0]], await Find("CIRCLE Red"));
        Assert.Equal([ids[1]], await Find("cafe CREME"));
        Assert.Equal([ids[1]], await Find("zur été"));
        Assert.Equal([ids[1]], await Find("ete"));
        Assert.Equal([ids[2]], await Find("\"tiny\" squares* -red:"));
        Assert.Empty(await Find("purple"));
        Assert.Empty(await Find("red purple"));
        Assert.Equal([ids[1]], await Find("more contrast_100%"));
        Assert.Empty(await Find("contrast_1000"));
        Assert.Equal(3, (await Find("  ()*\" ")).Count); // nothing searchable: no filter
        // Letters unaccent turns into quotes (ʻ U+02BB, ŉ U+0149), a NUL and tsquery's own operators: no error, no match.
        Assert.Empty(await Find("Hawaiʻi"));
        Assert.Empty(await Find("ŉ red"));
        Assert.Empty(await Find("red\0purple"));
        Assert.Empty(await Find("red:* & !blue | (circle) <-> 'x'"));
    }
}
