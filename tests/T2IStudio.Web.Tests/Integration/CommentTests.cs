using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Comments;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Images;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>Comments: who reads, who writes, only authors change them, and the gallery search finds them.</summary>
public class CommentTests
{
    /// <summary>The app under test, as <c>NewApp(storageRoot, settings)</c>; a derived class runs the same tests on another engine.</summary>
    protected virtual StudioAppFactory NewApp(string? storageRoot = null, IDictionary<string, string?>? settings = null) => new(storageRoot, settings);

    [Fact]
    public async Task Owners_and_editors_comment_viewers_read_authors_edit_and_delete_their_own_and_search_finds_comment_text()
    {
        using var app = NewApp();
        var owner = await app.CreateUserAsync("c-owner@example.test");
        var editor = await app.CreateUserAsync("c-editor@example.test");
        var viewer = await app.CreateUserAsync("c-viewer@example.test");
        var outsider = await app.CreateUserAsync("c-outsider@example.test");
        using var scope = app.Services.CreateScope();
        var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
        var galleries = scope.ServiceProvider.GetRequiredService<GalleryService>();
        var comments = scope.ServiceProvider.GetRequiredService<CommentService>();
        var library = scope.ServiceProvider.GetRequiredService<ImageLibrary>();
        var ownerP = StudioAppFactory.PrincipalOf(owner);
        var editorP = StudioAppFactory.PrincipalOf(editor);
        var viewerP = StudioAppFactory.PrincipalOf(viewer);
        var outsiderP = StudioAppFactory.PrincipalOf(outsider);
        var teamId = (await teams.CreateAsync(ownerP, "Critique")).Id!.Value;
        await teams.JoinByInvitationAsync(ownerP, teamId, editor, TeamRole.Editor);
        await teams.JoinByInvitationAsync(ownerP, teamId, viewer, TeamRole.Viewer);
        var galleryId = (await galleries.CreateAsync(ownerP, "Wall", teamId)).Id!.Value;
        var imageId = (await app.GenerateAsync(owner, GenerationQueueTests.Request(steps: 2) with { GalleryId = galleryId })).ImageIds.Single();
        using var viewerHears = new JobWaiter(app.Services, viewer.Id);

        var first = await comments.AddAsync(ownerP, imageId, "  Needs more contrast  ");
        var second = await comments.AddAsync(editorP, imageId, "Agreed, try (vivid:1.3)");
        Assert.True(first.Succeeded && second.Succeeded);
        Assert.Equal(["Viewers cannot comment here."], (await comments.AddAsync(viewerP, imageId, "me too")).Errors);
        Assert.True((await comments.AddAsync(outsiderP, imageId, "hello")).NotFound);
        Assert.Equal(["Write something first."], (await comments.AddAsync(ownerP, imageId, "   ")).Errors);
        Assert.Equal(["A comment has at most 2000 characters."], (await comments.AddAsync(ownerP, imageId, new string('x', 2001))).Errors);

        var seen = await comments.ListAsync(viewerP, imageId);
        Assert.Equal(["Needs more contrast", "Agreed, try (vivid:1.3)"], seen.Select(c => c.Text));
        Assert.All(seen, c => Assert.False(c.IsMine));
        Assert.Empty(await comments.ListAsync(outsiderP, imageId));
        Assert.Contains(viewerHears.Events, e => e is CommentsChanged c && c.ImageId == imageId);
        Assert.Contains(viewerHears.Events, e => e is GalleryUpdated u && u.GalleryId == galleryId);

        Assert.Equal(["Only its author can change a comment."], (await comments.EditAsync(ownerP, second.Id!.Value, "edited by someone else")).Errors);
        Assert.True((await comments.EditAsync(editorP, second.Id.Value, "Agreed")).Succeeded);
        Assert.NotNull((await comments.ListAsync(ownerP, imageId))[1].EditedAt);
        Assert.Equal(["Only its author can change a comment."], (await comments.DeleteAsync(editorP, first.Id!.Value)).Errors);
        Assert.True((await comments.DeleteAsync(ownerP, first.Id.Value)).Succeeded);
        Assert.Equal(["Agreed"], (await comments.ListAsync(ownerP, imageId)).Select(c => c.Text));

        // The gallery search finds words of a comment, in the owner's images and in the team gallery.
        Assert.Equal([imageId], (await library.PageAsync(ownerP, new GalleryFilter("agreed"), 0, 10)).Tiles.Select(t => t.Id));
        Assert.Equal([imageId], (await galleries.PageAsync(viewerP, galleryId, new GalleryFilter("Agreed"), 0, 10)).Tiles.Select(t => t.Id));
        Assert.Empty((await library.PageAsync(ownerP, new GalleryFilter("contrast"), 0, 10)).Tiles);
    }
}
