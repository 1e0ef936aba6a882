using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Imaging;
using T2IStudio.Web.Endpoints;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Storage;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Tests.Integration;

namespace T2IStudio.Web.Tests.Api;

/// <summary>The library half of <c>/api/v1</c> over real HTTP: images, galleries and prompt history.</summary>
public class ApiV1LibraryTests(StudioAppFixture fixture) : IClassFixture<StudioAppFixture>
{
    private readonly StudioAppFactory _app = fixture.Factory;

    [Fact]
    public async Task Images_page_by_cursor_and_an_image_made_between_pages_is_neither_skipped_nor_repeated()
    {
        var user = await _app.CreateUserAsync("pages@library.test");
        var made = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            made.AddRange((await _app.GenerateAsync(user, GenerationQueueTests.Request(prompt: $"page {i}", steps: 2, seed: (ulong)i))).ImageIds);
        }
        made.Reverse(); // newest first
        using var client = _app.CreateApiClient(await _app.CreateTokenAsync(user));

        var first = await GetAsync(client, "/api/v1/images?limit=2");
        var late = (await _app.GenerateAsync(user, GenerationQueueTests.Request(prompt: "late", steps: 2, seed: 99))).ImageIds.Single();
        var second = await GetAsync(client, $"/api/v1/images?limit=2&cursor={first.GetProperty("nextCursor").GetString()}");
        var third = await GetAsync(client, $"/api/v1/images?limit=2&cursor={second.GetProperty("nextCursor").GetString()}");

        Assert.Equal(made, [.. IdsOf(first), .. IdsOf(second), .. IdsOf(third)]);
        Assert.Equal([2, 2, 1], new[] { first, second, third }.Select(p => p.GetProperty("items").GetArrayLength()));
        Assert.Equal(JsonValueKind.Null, third.GetProperty("nextCursor").ValueKind);
        // The image made meanwhile heads a fresh first page.
        Assert.Equal(late, IdsOf(await GetAsync(client, "/api/v1/images?limit=2"))[0]);
        Assert.Equal(6, IdsOf(await GetAsync(client, "/api/v1/images")).Count);
        var item = first.GetProperty("items")[0];
        Assert.Equal("page 4", item.GetProperty("prompt").GetString());
        Assert.Equal($"/api/v1/images/{made[0]}/png", item.GetProperty("links").GetProperty("png").GetString());
        Assert.Equal($"/api/v1/images/{made[0]}/thumbnail", item.GetProperty("links").GetProperty("thumbnail").GetString());
    }

    [Fact]
    public async Task Images_made_at_the_same_instant_page_one_by_one_each_exactly_once()
    {
        var user = await _app.CreateUserAsync("ties@library.test");
        var made = (await _app.GenerateAsync(user, GenerationQueueTests.Request(prompt: "ties", steps: 2, batch: 3))).ImageIds;
        await using (var db = await _app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync())
        {
            var instant = await db.Images.Where(i => i.Id == made[0]).Select(i => i.CreatedAt).SingleAsync();
            Assert.Equal(3, await db.Images.Where(i => made.Contains(i.Id)).ExecuteUpdateAsync(u => u.SetProperty(i => i.CreatedAt, instant)));
        }
        using var client = _app.CreateApiClient(await _app.CreateTokenAsync(user, ApiTokenScope.Read));

        var seen = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await GetAsync(client, "/api/v1/images?limit=1" + (cursor is null ? "" : $"&cursor={cursor}"));
            seen.AddRange(IdsOf(page));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null && seen.Count < 10);

        Assert.Equal(made.Order(), seen.Order());
        Assert.Equal(IdsOf(await GetAsync(client, "/api/v1/images")), seen);
    }

    [Fact]
    public async Task Images_filter_by_search_model_since_and_favourites_as_the_gallery_does()
    {
        var user = await _app.CreateUserAsync("filters@library.test");
        var fox = (await _app.GenerateAsync(user, GenerationQueueTests.Request(prompt: "a red fox", steps: 2))).ImageIds.Single();
        var whale = (await _app.GenerateAsync(user, GenerationQueueTests.Request(prompt: "a blue whale", steps: 2))).ImageIds.Single();
        var other = await _app.CreateUserAsync("filters-other@library.test");
        await _app.GenerateAsync(other, GenerationQueueTests.Request(prompt: "a red fox too", steps: 2));
        using var client = _app.CreateApiClient(await _app.CreateTokenAsync(user));
        var whaleAt = (await GetAsync(client, $"/api/v1/images/{whale}")).GetProperty("createdAt").GetDateTimeOffset();

        Assert.Equal([fox], IdsOf(await GetAsync(client, "/api/v1/images?search=fox")));
        Assert.Equal([whale, fox], IdsOf(await GetAsync(client, "/api/v1/images?model=t2istudio-tiny")));
        Assert.Empty(IdsOf(await GetAsync(client, "/api/v1/images?model=no-such-model")));
        Assert.Equal([whale], IdsOf(await GetAsync(client, $"/api/v1/images?since={Uri.EscapeDataString(whaleAt.ToString("O"))}")));
        Assert.Empty(IdsOf(await GetAsync(client, $"/api/v1/images?since={Uri.EscapeDataString(whaleAt.AddDays(1).ToString("O"))}")));

        Assert.Empty(IdsOf(await GetAsync(client, "/api/v1/images?favorites=true")));
        Assert.Equal(HttpStatusCode.NoContent, (await client.PutAsync(new Uri($"/api/v1/images/{fox}/favorite", UriKind.Relative), null)).StatusCode);
        Assert.Equal([fox], IdsOf(await GetAsync(client, "/api/v1/images?favorites=true")));
        Assert.True((await GetAsync(client, $"/api/v1/images/{fox}")).GetProperty("isFavorite").GetBoolean());
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync(new Uri($"/api/v1/images/{fox}/favorite", UriKind.Relative))).StatusCode);
        Assert.Empty(IdsOf(await GetAsync(client, "/api/v1/images?favorites=true")));
        Assert.False((await GetAsync(client, $"/api/v1/images/{fox}")).GetProperty("isFavorite").GetBoolean());
    }

    [Fact]
    public async Task An_image_reads_as_its_metadata_its_png_with_the_parameters_chunk_and_a_webp_thumbnail()
    {
        var user = await _app.CreateUserAsync("files@library.test");
        var id = (await _app.GenerateAsync(user, GenerationQueueTests.Request(prompt: "a tiny lighthouse", steps: 2, seed: 7))).ImageIds.Single();
        using var client = _app.CreateApiClient(await _app.CreateTokenAsync(user, ApiTokenScope.Read));
        GeneratedImage stored;
        await using (var db = await _app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync())
        {
            stored = await db.Images.SingleAsync(i => i.Id == id);
        }

        var detail = await GetAsync(client, $"/api/v1/images/{id}");
        Assert.Equal("a tiny lighthouse", detail.GetProperty("prompt").GetString());
        Assert.Equal("t2istudio-tiny", detail.GetProperty("model").GetString());
        Assert.Equal(7UL, detail.GetProperty("seed").GetUInt64());
        Assert.Equal(64, detail.GetProperty("width").GetInt32());
        Assert.Equal(2, detail.GetProperty("steps").GetInt32());
        Assert.False(string.IsNullOrEmpty(detail.GetProperty("scheduler").GetString()));
        Assert.Equal(JsonValueKind.Null, detail.GetProperty("parentImageId").ValueKind);
        Assert.Equal(0, detail.GetProperty("galleryIds").GetArrayLength());
        Assert.Equal(stored.Parameters, detail.GetProperty("parameters").GetString());
        Assert.StartsWith("a tiny lighthouse", stored.Parameters, StringComparison.Ordinal);

        var png = await client.GetAsync(new Uri(detail.GetProperty("links").GetProperty("png").GetString()!, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, png.StatusCode);
        Assert.Equal("image/png", png.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", png.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("attachment", png.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal(ImageEndpoints.DownloadName(stored), png.Content.Headers.ContentDisposition?.FileNameStar);
        var bytes = await png.Content.ReadAsByteArrayAsync();
        Assert.Equal(await File.ReadAllBytesAsync(_app.Services.GetRequiredService<ImageStore>().PathOf(stored.FileKey)), bytes);
        Assert.Equal(stored.Parameters, PngFiles.ReadText(new MemoryStream(bytes)).Parameters);

        var thumbnail = await client.GetAsync(new Uri($"/api/v1/images/{id}/thumbnail", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, thumbnail.StatusCode);
        Assert.Equal("image/webp", thumbnail.Content.Headers.ContentType?.MediaType);
        var webp = await thumbnail.Content.ReadAsByteArrayAsync();
        Assert.Equal("RIFF"u8.ToArray(), webp[..4]);
        Assert.Equal("WEBP"u8.ToArray(), webp[8..12]);
    }

    [Fact]
    public async Task A_deleted_image_answers_404_everywhere_and_a_second_delete_too()
    {
        var user = await _app.CreateUserAsync("delete@library.test");
        var id = (await _app.GenerateAsync(user, GenerationQueueTests.Request(prompt: "soon gone", steps: 2))).ImageIds.Single();
        using var client = _app.CreateApiClient(await _app.CreateTokenAsync(user));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri($"/api/v1/images/{id}", UriKind.Relative))).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync(new Uri($"/api/v1/images/{id}", UriKind.Relative))).StatusCode);

        foreach (var url in new[] { $"/api/v1/images/{id}", $"/api/v1/images/{id}/png", $"/api/v1/images/{id}/thumbnail" })
        {
            var response = await client.GetAsync(new Uri(url, UriKind.Relative));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync(new Uri($"/api/v1/images/{id}", UriKind.Relative))).StatusCode);
        Assert.Empty(IdsOf(await GetAsync(client, "/api/v1/images")));
    }

    [Fact]
    public async Task Galleries_list_with_roles_and_their_items_change_as_the_roles_allow()
    {
        var owner = await _app.CreateUserAsync("owner@galleries.test");
        var editor = await _app.CreateUserAsync("editor@galleries.test");
        var viewer = await _app.CreateUserAsync("viewer@galleries.test");
        var outsider = await _app.CreateUserAsync("outsider@galleries.test");
        Guid teamId, galleryId, privateGalleryId;
        using (var scope = _app.Services.CreateScope())
        {
            var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
            var galleries = scope.ServiceProvider.GetRequiredService<GalleryService>();
            var principal = StudioAppFactory.PrincipalOf(owner);
            teamId = (await teams.CreateAsync(principal, "Studio")).Id!.Value;
            await teams.JoinByInvitationAsync(principal, teamId, editor, TeamRole.Editor);
            await teams.JoinByInvitationAsync(principal, teamId, viewer, TeamRole.Viewer);
            galleryId = (await galleries.CreateAsync(principal, "Team picks", teamId)).Id!.Value;
            privateGalleryId = (await galleries.CreateAsync(principal, "Mine", null)).Id!.Value;
        }
        var first = (await _app.GenerateAsync(owner, GenerationQueueTests.Request(prompt: "first pick", steps: 2) with { GalleryId = galleryId })).ImageIds.Single();
        var second = (await _app.GenerateAsync(owner, GenerationQueueTests.Request(prompt: "second pick", steps: 2) with { GalleryId = galleryId })).ImageIds.Single();
        var editorImage = (await _app.GenerateAsync(editor, GenerationQueueTests.Request(prompt: "editor's", steps: 2))).ImageIds.Single();
        var viewerImage = (await _app.GenerateAsync(viewer, GenerationQueueTests.Request(prompt: "viewer's", steps: 2))).ImageIds.Single();
        using var asOwner = _app.CreateApiClient(await _app.CreateTokenAsync(owner));
        using var asEditor = _app.CreateApiClient(await _app.CreateTokenAsync(editor));
        using var asViewer = _app.CreateApiClient(await _app.CreateTokenAsync(viewer));
        using var asOutsider = _app.CreateApiClient(await _app.CreateTokenAsync(outsider));

        var ownerList = (await GetAsync(asOwner, "/api/v1/galleries")).EnumerateArray().ToList();
        Assert.Equal([privateGalleryId, galleryId], ownerList.Select(g => g.GetProperty("id").GetGuid()));
        Assert.Equal(["Owner", "Owner"], ownerList.Select(g => g.GetProperty("myRole").GetString()));
        var viewerList = (await GetAsync(asViewer, "/api/v1/galleries")).EnumerateArray().Single();
        Assert.Equal(galleryId, viewerList.GetProperty("id").GetGuid());
        Assert.Equal("Viewer", viewerList.GetProperty("myRole").GetString());
        Assert.Equal(teamId, viewerList.GetProperty("teamId").GetGuid());
        Assert.Equal("Studio", viewerList.GetProperty("teamName").GetString());
        Assert.Equal(2, viewerList.GetProperty("itemCount").GetInt32());
        Assert.Equal("Editor", (await GetAsync(asEditor, "/api/v1/galleries")).EnumerateArray().Single().GetProperty("myRole").GetString());
        Assert.Equal(0, (await GetAsync(asOutsider, "/api/v1/galleries")).GetArrayLength());

        // Items page like images; the viewer reads them, the outsider cannot see the gallery at all.
        var page1 = await GetAsync(asViewer, $"/api/v1/galleries/{galleryId}/items?limit=1");
        var page2 = await GetAsync(asViewer, $"/api/v1/galleries/{galleryId}/items?limit=1&cursor={page1.GetProperty("nextCursor").GetString()}");
        Assert.Equal([second, first], [.. IdsOf(page1), .. IdsOf(page2)]);
        Assert.Equal(JsonValueKind.Null, page2.GetProperty("nextCursor").ValueKind);
        Assert.Equal(HttpStatusCode.NotFound, (await asOutsider.GetAsync(new Uri($"/api/v1/galleries/{galleryId}/items", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await asViewer.GetAsync(new Uri($"/api/v1/galleries/{privateGalleryId}/items", UriKind.Relative))).StatusCode);
        Assert.Equal([galleryId], (await GetAsync(asViewer, $"/api/v1/images/{first}")).GetProperty("galleryIds").EnumerateArray().Select(g => g.GetGuid()));

        // A viewer's change is refused in the service's words; the outsider's reads as missing.
        var refused = await asViewer.PutAsync(new Uri($"/api/v1/galleries/{galleryId}/items/{viewerImage}", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Viewers cannot add images to this gallery.", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        var removeRefused = await asViewer.DeleteAsync(new Uri($"/api/v1/galleries/{galleryId}/items/{first}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Forbidden, removeRefused.StatusCode);
        Assert.Equal("Viewers cannot remove images from this gallery.", (await removeRefused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await asOutsider.DeleteAsync(new Uri($"/api/v1/galleries/{galleryId}/items/{first}", UriKind.Relative))).StatusCode);

        // Editors add their own images (not someone else's) and remove any.
        Assert.Equal(HttpStatusCode.NotFound, (await asEditor.PutAsync(new Uri($"/api/v1/galleries/{galleryId}/items/{viewerImage}", UriKind.Relative), null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await asEditor.PutAsync(new Uri($"/api/v1/galleries/{galleryId}/items/{editorImage}", UriKind.Relative), null)).StatusCode);
        Assert.Equal(editorImage, IdsOf(await GetAsync(asViewer, $"/api/v1/galleries/{galleryId}/items"))[0]);
        Assert.Equal(HttpStatusCode.NoContent, (await asEditor.DeleteAsync(new Uri($"/api/v1/galleries/{galleryId}/items/{first}", UriKind.Relative))).StatusCode);
        Assert.Equal([editorImage, second], IdsOf(await GetAsync(asOwner, $"/api/v1/galleries/{galleryId}/items")));
        Assert.Equal(HttpStatusCode.NotFound, (await asEditor.DeleteAsync(new Uri($"/api/v1/galleries/{galleryId}/items/{first}", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Prompts_list_search_page_and_read_only_the_callers_own()
    {
        var user = await _app.CreateUserAsync("prompts@library.test");
        await _app.GenerateAsync(user, GenerationQueueTests.Request(prompt: "a quiet harbour", steps: 2));
        await _app.GenerateAsync(user, GenerationQueueTests.Request(prompt: "a loud market", steps: 2));
        await _app.GenerateAsync(user, GenerationQueueTests.Request(prompt: "a quiet forest", steps: 2));
        var other = await _app.CreateUserAsync("prompts-other@library.test");
        await _app.GenerateAsync(other, GenerationQueueTests.Request(prompt: "a quiet secret", steps: 2));
        using var client = _app.CreateApiClient(await _app.CreateTokenAsync(user, ApiTokenScope.Read));
        using var otherClient = _app.CreateApiClient(await _app.CreateTokenAsync(other));

        var all = await GetAsync(client, "/api/v1/prompts");
        Assert.Equal(["a quiet forest", "a loud market", "a quiet harbour"], TextsOf(all));
        Assert.Equal(["a quiet forest", "a quiet harbour"], TextsOf(await GetAsync(client, "/api/v1/prompts?search=QUIET")));
        var page1 = await GetAsync(client, "/api/v1/prompts?limit=2");
        var page2 = await GetAsync(client, $"/api/v1/prompts?limit=2&cursor={page1.GetProperty("nextCursor").GetString()}");
        Assert.Equal(TextsOf(all), [.. TextsOf(page1), .. TextsOf(page2)]);
        Assert.Equal(JsonValueKind.Null, page2.GetProperty("nextCursor").ValueKind);

        var entry = all.GetProperty("items")[0];
        var id = entry.GetProperty("id").GetGuid();
        var one = await GetAsync(client, $"/api/v1/prompts/{id}");
        Assert.Equal("a quiet forest", one.GetProperty("text").GetString());
        Assert.Equal(1, one.GetProperty("useCount").GetInt32());
        Assert.Equal(entry.GetProperty("lastUsedAt").GetDateTimeOffset(), one.GetProperty("lastUsedAt").GetDateTimeOffset());
        Assert.True(one.TryGetProperty("negativeText", out _));
        Assert.Equal(HttpStatusCode.NotFound, (await otherClient.GetAsync(new Uri($"/api/v1/prompts/{id}", UriKind.Relative))).StatusCode);
    }

    [Theory]
    [InlineData("/api/v1/images?cursor=not-a-cursor", "cursor")]
    [InlineData("/api/v1/images?cursor=AAAA", "cursor")]
    [InlineData("/api/v1/images?limit=0", "limit")]
    [InlineData("/api/v1/images?limit=101", "limit")]
    [InlineData("/api/v1/images?limit=ten", "limit")]
    [InlineData("/api/v1/images?since=yesterday", "since")]
    [InlineData("/api/v1/images?favorites=yes", "favorites")]
    [InlineData("/api/v1/prompts?cursor=%21%21", "cursor")]
    [InlineData("/api/v1/prompts?limit=-1", "limit")]
    public async Task A_bad_cursor_limit_or_since_answers_400_naming_the_field(string url, string field)
    {
        var user = await _app.CreateUserAsync($"bad-{Guid.NewGuid():N}@library.test");
        using var client = _app.CreateApiClient(await _app.CreateTokenAsync(user, ApiTokenScope.Read));

        var response = await client.GetAsync(new Uri(url, UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task A_bad_cursor_on_a_gallery_answers_400_naming_it_before_the_gallery_is_looked_up()
    {
        var user = await _app.CreateUserAsync("gallery-cursor@library.test");
        using var client = _app.CreateApiClient(await _app.CreateTokenAsync(user, ApiTokenScope.Read));

        var response = await client.GetAsync(new Uri($"/api/v1/galleries/{Guid.NewGuid()}/items?cursor=x", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("cursor", out _));
    }

    private static async Task<JsonElement> GetAsync(HttpClient client, string url)
    {
        var response = await client.GetAsync(new Uri(url, UriKind.Relative));
        Assert.True(response.IsSuccessStatusCode, $"{url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static List<Guid> IdsOf(JsonElement page) =>
        [.. page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetGuid())];

    private static List<string> TextsOf(JsonElement page) =>
        [.. page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("text").GetString()!)];
}
