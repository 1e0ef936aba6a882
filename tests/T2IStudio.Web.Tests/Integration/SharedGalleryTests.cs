using System.Net;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Images;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>A team gallery: who sees, who changes, and what a removed member keeps (nothing).</summary>
public class SharedGalleryTests
{
    /// <summary>The app under test, as <c>NewApp(storageRoot, settings)</c>; a derived class runs the same tests on another engine.</summary>
    protected virtual StudioAppFactory NewApp(string? storageRoot = null, IDictionary<string, string?>? settings = null) => new(storageRoot, settings);

    [Fact]
    public async Task Generating_into_a_team_gallery_shares_the_image_and_its_progress_with_members_only_until_they_leave()
    {
        using var app = NewApp();
        var owner = await app.CreateUserAsync("g-owner@example.test");
        var viewer = await app.CreateUserAsync("g-viewer@example.test");
        var outsider = await app.CreateUserAsync("g-outsider@example.test");
        using var scope = app.Services.CreateScope();
        var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
        var galleries = scope.ServiceProvider.GetRequiredService<GalleryService>();
        var library = scope.ServiceProvider.GetRequiredService<ImageLibrary>();
        var generation = scope.ServiceProvider.GetRequiredService<GenerationService>();
        var ownerP = StudioAppFactory.PrincipalOf(owner);
        var viewerP = StudioAppFactory.PrincipalOf(viewer);
        var outsiderP = StudioAppFactory.PrincipalOf(outsider);

        var teamId = (await teams.CreateAsync(ownerP, "Studio")).Id!.Value;
        Assert.True((await teams.JoinByInvitationAsync(ownerP, teamId, viewer, TeamRole.Viewer)).Succeeded);
        var galleryId = (await galleries.CreateAsync(ownerP, "Moodboard", teamId)).Id!.Value;
        Assert.Equal("Viewers cannot create galleries.", Assert.Single((await galleries.CreateAsync(viewerP, "Mine", teamId)).Errors));
        Assert.Equal(["You cannot add images to that gallery."], (await generation.SubmitAsync(viewerP, GenerationQueueTests.Request() with { GalleryId = galleryId })).Errors);

        using var viewerHears = new JobWaiter(app.Services, viewer.Id);
        using var outsiderHears = new JobWaiter(app.Services, outsider.Id);
        var (jobId, imageIds) = await app.GenerateAsync(owner, GenerationQueueTests.Request(prompt: "a team poster") with { GalleryId = galleryId });
        var imageId = imageIds.Single();

        // The viewer followed the job and sees the image in the gallery; the outsider heard nothing.
        await viewerHears.WaitForAsync<JobCompleted>(jobId);
        Assert.Contains(viewerHears.Events, e => e is JobProgress p && p.JobId == jobId);
        Assert.Contains(viewerHears.Events, e => e is GalleryUpdated u && u.GalleryId == galleryId);
        Assert.Empty(outsiderHears.Events);
        Assert.Equal([imageId], (await galleries.PageAsync(viewerP, galleryId, new GalleryFilter(), 0, 10)).Tiles.Select(t => t.Id));
        Assert.Empty((await galleries.PageAsync(outsiderP, galleryId, new GalleryFilter(), 0, 10)).Tiles);

        // Reading: members yes, outsiders no; changing: the viewer cannot.
        Assert.NotNull(await library.GetAsync(viewerP, imageId));
        Assert.Null(await library.GetAsync(outsiderP, imageId));
        Assert.NotNull(await generation.GetJobAsync(viewerP, jobId));
        Assert.Null(await generation.GetJobAsync(outsiderP, jobId));
        Assert.False(await library.DeleteAsync(viewerP, imageId));
        Assert.True(await library.SetFavoriteAsync(viewerP, imageId, true)); // a star of their own
        Assert.Equal([true], (await galleries.PageAsync(viewerP, galleryId, new GalleryFilter(FavoritesOnly: true), 0, 10)).Tiles.Select(t => t.IsFavorite));
        Assert.Empty((await galleries.PageAsync(ownerP, galleryId, new GalleryFilter(FavoritesOnly: true), 0, 10)).Tiles);
        Assert.Equal(["Viewers cannot remove images from this gallery."], (await galleries.RemoveAsync(viewerP, galleryId, imageId)).Errors);
        Assert.Equal(CancelOutcome.NotFound, await generation.CancelAsync(viewerP, jobId));
        Assert.Empty((await library.PageAsync(viewerP, new GalleryFilter(), 0, 10)).Tiles); // not in the viewer's own images

        using var viewerHttp = app.CreateBrowserlikeClient();
        await TestAccounts.SignInAsync(viewerHttp, viewer.Email!, TestAccounts.Password);
        using var outsiderHttp = app.CreateBrowserlikeClient();
        await TestAccounts.SignInAsync(outsiderHttp, outsider.Email!, TestAccounts.Password);
        using var viewerApi = app.CreateApiClient(await app.CreateTokenAsync(viewer));
        using var outsiderApi = app.CreateApiClient(await app.CreateTokenAsync(outsider));
        foreach (var url in new[] { $"/images/{imageId}", $"/images/{imageId}/thumb", $"/images/{imageId}?download=true", $"/gallery?g={galleryId}" })
        {
            Assert.True((await viewerHttp.GetAsync(new Uri(url, UriKind.Relative))).StatusCode == HttpStatusCode.OK, $"viewer: {url}");
            Assert.True((await outsiderHttp.GetAsync(new Uri(url, UriKind.Relative))).StatusCode == HttpStatusCode.NotFound, $"outsider: {url}");
        }
        Assert.Equal(HttpStatusCode.OK, (await viewerApi.GetAsync(new Uri($"/api/v1/jobs/{jobId}", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await outsiderApi.GetAsync(new Uri($"/api/v1/jobs/{jobId}", UriKind.Relative))).StatusCode);

        // Removed: every one of those reads as missing at the next request.
        Assert.True((await teams.RemoveMemberAsync(ownerP, teamId, viewer.Id)).Succeeded);
        Assert.Null(await library.GetAsync(viewerP, imageId));
        Assert.Empty((await galleries.ListAsync(viewerP)));
        foreach (var url in new[] { $"/images/{imageId}", $"/images/{imageId}/thumb", $"/gallery?g={galleryId}" })
        {
            Assert.True((await viewerHttp.GetAsync(new Uri(url, UriKind.Relative))).StatusCode == HttpStatusCode.NotFound, $"removed viewer: {url}");
        }
        Assert.Equal(HttpStatusCode.NotFound, (await viewerApi.GetAsync(new Uri($"/api/v1/jobs/{jobId}", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Editors_add_their_own_images_and_remove_items_and_removing_from_a_gallery_keeps_the_image()
    {
        using var app = NewApp();
        var owner = await app.CreateUserAsync("e-owner@example.test");
        var editor = await app.CreateUserAsync("e-editor@example.test");
        using var scope = app.Services.CreateScope();
        var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
        var galleries = scope.ServiceProvider.GetRequiredService<GalleryService>();
        var library = scope.ServiceProvider.GetRequiredService<ImageLibrary>();
        var ownerP = StudioAppFactory.PrincipalOf(owner);
        var editorP = StudioAppFactory.PrincipalOf(editor);
        var teamId = (await teams.CreateAsync(ownerP, "Studio")).Id!.Value;
        await teams.JoinByInvitationAsync(ownerP, teamId, editor, TeamRole.Editor);
        var galleryId = (await galleries.CreateAsync(ownerP, "Picks", teamId)).Id!.Value;
        var privateId = (await galleries.CreateAsync(ownerP, "Just mine", null)).Id!.Value;
        var editorsImage = (await app.GenerateAsync(editor, GenerationQueueTests.Request(steps: 2))).ImageIds.Single();
        var ownersImage = (await app.GenerateAsync(owner, GenerationQueueTests.Request(steps: 2))).ImageIds.Single();

        Assert.True((await galleries.AddAsync(editorP, galleryId, editorsImage)).Succeeded);
        Assert.True((await galleries.AddAsync(editorP, galleryId, ownersImage)).NotFound); // only your own images
        Assert.True((await galleries.AddAsync(editorP, privateId, editorsImage)).NotFound); // someone's private gallery
        Assert.NotNull(await library.GetAsync(ownerP, editorsImage)); // shared with the team now
        Assert.Equal(["Just mine", "Picks (Studio)"], (await galleries.ListAsync(ownerP)).Select(g => g.Label));
        Assert.Equal(["Picks (Studio)"], (await galleries.WritableAsync(editorP)).Select(g => g.Label));

        Assert.True((await galleries.RemoveAsync(editorP, galleryId, editorsImage)).Succeeded);
        Assert.Null(await library.GetAsync(ownerP, editorsImage)); // no longer shared
        Assert.NotNull(await library.GetAsync(editorP, editorsImage)); // still the editor's
        Assert.True((await galleries.RemoveAsync(editorP, galleryId, editorsImage)).NotFound);

        // Only owners rename and delete; deleting a gallery keeps its images with their makers.
        Assert.True((await galleries.AddAsync(editorP, galleryId, editorsImage)).Succeeded);
        Assert.Equal(["Only the gallery's owners can rename it."], (await galleries.RenameAsync(editorP, galleryId, "Mine now")).Errors);
        Assert.Equal(["Only the gallery's owners can delete it."], (await galleries.DeleteAsync(editorP, galleryId)).Errors);
        Assert.True((await galleries.RenameAsync(ownerP, galleryId, "  Best picks ")).Succeeded);
        Assert.Equal("Best picks", (await galleries.GetAsync(editorP, galleryId))!.Name);
        Assert.True((await galleries.DeleteAsync(ownerP, galleryId)).Succeeded);
        Assert.Null(await galleries.GetAsync(editorP, galleryId));
        Assert.NotNull(await library.GetAsync(editorP, editorsImage));
        Assert.Null(await library.GetAsync(ownerP, editorsImage));
    }

    [Fact]
    public async Task Deleting_an_original_keeps_it_in_the_galleries_that_hold_it_until_the_last_one_lets_it_go()
    {
        using var app = NewApp();
        var owner = await app.CreateUserAsync("d-owner@example.test");
        var viewer = await app.CreateUserAsync("d-viewer@example.test");
        using var scope = app.Services.CreateScope();
        var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
        var galleries = scope.ServiceProvider.GetRequiredService<GalleryService>();
        var library = scope.ServiceProvider.GetRequiredService<ImageLibrary>();
        var store = app.Services.GetRequiredService<T2IStudio.Web.Storage.ImageStore>();
        var ownerP = StudioAppFactory.PrincipalOf(owner);
        var viewerP = StudioAppFactory.PrincipalOf(viewer);
        var teamId = (await teams.CreateAsync(ownerP, "Keepers")).Id!.Value;
        await teams.JoinByInvitationAsync(ownerP, teamId, viewer, TeamRole.Viewer);
        var first = (await galleries.CreateAsync(ownerP, "One", teamId)).Id!.Value;
        var second = (await galleries.CreateAsync(ownerP, "Two", teamId)).Id!.Value;
        var imageId = (await app.GenerateAsync(owner, GenerationQueueTests.Request(steps: 2) with { GalleryId = first })).ImageIds.Single();
        await galleries.AddAsync(ownerP, second, imageId);
        var fileKey = (await library.GetAsync(ownerP, imageId))!.FileKey;

        Assert.True(await library.DeleteAsync(ownerP, imageId));
        Assert.Empty((await library.PageAsync(ownerP, new GalleryFilter(), 0, 10)).Tiles); // gone from the owner's images
        Assert.Equal([imageId], (await galleries.PageAsync(viewerP, first, new GalleryFilter(), 0, 10)).Tiles.Select(t => t.Id));
        Assert.NotNull(await library.GetAsync(viewerP, imageId));
        Assert.False(await library.DeleteAsync(ownerP, imageId)); // already deleted once

        Assert.True((await galleries.RemoveAsync(ownerP, first, imageId)).Succeeded);
        Assert.True(File.Exists(store.PathOf(fileKey))); // the second gallery still holds it
        Assert.True((await galleries.DeleteAsync(ownerP, second)).Succeeded);
        Assert.Null(await library.GetAsync(ownerP, imageId)); // the last holder let go: row and file are gone
        Assert.False(File.Exists(store.PathOf(fileKey)));
    }
}
