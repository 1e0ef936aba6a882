using Bunit;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.EntityFrameworkCore;
using MudBlazor;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Components.Images;

namespace T2IStudio.Web.Tests.Components.Images;

/// <summary>The viewer's review part: the state, the buttons for owners and editors, keys A and R, and viewers read-only.</summary>
public sealed class ImageReviewTests : ImageComponentTestBase
{
    [Fact]
    public async Task An_editor_approves_with_A_requests_changes_with_R_and_the_buttons_show_which_is_pressed()
    {
        var editor = await SignInAsync("review-editor@example.test");
        var (galleryId, image) = await ReviewedGalleryAsync(editor, TeamRole.Editor);
        var navigations = new List<bool>();
        var dialogs = Render<MudDialogProvider>();
        Render<ImageLightbox>(p => p.Add(l => l.ImageId, image.Id).Add(l => l.GalleryId, galleryId).Add(l => l.OnNavigate, (bool older) => navigations.Add(older)));

        dialogs.WaitForAssertion(() => Assert.Equal("Needs review", dialogs.Find("[data-testid=review-state]").TextContent.Trim()));
        Assert.Equal("false", Button(dialogs, "Approve").GetAttribute("aria-pressed"));

        // Ctrl+A selects text; it never approves.
        await dialogs.InvokeAsync(() => dialogs.Find(".studio-lightbox-keys").KeyDown(new KeyboardEventArgs { Key = "a", CtrlKey = true }));
        Assert.Equal(ReviewState.NeedsReview, await StateAsync(galleryId, image.Id));

        await dialogs.InvokeAsync(() => dialogs.Find(".studio-lightbox-keys").KeyDown(new KeyboardEventArgs { Key = "a" }));
        dialogs.WaitForAssertion(() => Assert.Equal("Approved", dialogs.Find("[data-testid=review-state]").TextContent.Trim()));
        Assert.Equal(ReviewState.Approved, await StateAsync(galleryId, image.Id));
        Assert.Equal("true", Button(dialogs, "Approve").GetAttribute("aria-pressed"));
        Assert.StartsWith("by review-editor", dialogs.Find("[data-testid=review-by]").TextContent.Trim(), StringComparison.Ordinal);

        await dialogs.InvokeAsync(() => dialogs.Find(".studio-lightbox-keys").KeyDown(new KeyboardEventArgs { Key = "r" }));
        dialogs.WaitForAssertion(() => Assert.Equal("Changes requested", dialogs.Find("[data-testid=review-state]").TextContent.Trim()));
        Assert.Equal(("false", "true"), (Button(dialogs, "Approve").GetAttribute("aria-pressed"), Button(dialogs, "Request changes").GetAttribute("aria-pressed")));
        // The same reviewer changing their mind within minutes: one entry among the comments, showing where they ended.
        dialogs.WaitForAssertion(() => Assert.Equal(["review-editor requested changes"],
            dialogs.FindAll("[data-testid=review-entry] > span:not(.mud-text-secondary)").Select(e => e.TextContent.Trim())));

        // Keys typed into a comment stay there: no approval, no navigation.
        await dialogs.InvokeAsync(() => dialogs.Find("[data-testid=comment-input] textarea").KeyDown(new KeyboardEventArgs { Key = "a" }));
        await dialogs.InvokeAsync(() => dialogs.Find("[data-testid=comment-input] textarea").KeyDown(new KeyboardEventArgs { Key = "ArrowRight" }));
        Assert.Equal(ReviewState.ChangesRequested, await StateAsync(galleryId, image.Id));
        Assert.Empty(navigations);
    }

    [Fact]
    public async Task A_viewer_sees_the_state_but_has_no_buttons_and_A_does_nothing()
    {
        var viewer = await SignInAsync("review-viewer@example.test");
        var (galleryId, image) = await ReviewedGalleryAsync(viewer, TeamRole.Viewer);
        var dialogs = Render<MudDialogProvider>();
        Render<ImageLightbox>(p => p.Add(l => l.ImageId, image.Id).Add(l => l.GalleryId, galleryId));

        dialogs.WaitForAssertion(() => Assert.Equal("Needs review", dialogs.Find("[data-testid=review-state]").TextContent.Trim()));
        Assert.DoesNotContain(dialogs.FindAll("button"), b => b.TextContent.Trim() is "Approve" or "Request changes");
        await dialogs.InvokeAsync(() => dialogs.Find(".studio-lightbox-keys").KeyDown(new KeyboardEventArgs { Key = "a" }));
        Assert.Equal(ReviewState.NeedsReview, await StateAsync(galleryId, image.Id));
    }

    [Fact]
    public async Task Outside_a_reviewed_gallery_the_viewer_shows_no_review()
    {
        var user = await SignInAsync("review-none@example.test");
        var image = await AddImageAsync(user.Id, "just mine");
        var dialogs = Render<MudDialogProvider>();
        Render<ImageLightbox>(p => p.Add(l => l.ImageId, image.Id));

        dialogs.WaitForAssertion(() => Assert.Equal("just mine", dialogs.Find("[data-testid=lightbox-prompt]").TextContent.Trim()));
        Assert.Empty(dialogs.FindAll("[data-testid=image-review]"));
    }

    private static AngleSharp.Dom.IElement Button(IRenderedComponent<MudDialogProvider> dialogs, string text) =>
        dialogs.FindAll("button").Single(b => b.TextContent.Trim() == text);

    /// <summary>A team where <paramref name="member"/> has <paramref name="role"/>, whose reviewed gallery holds an owner's image.</summary>
    private async Task<(Guid GalleryId, GeneratedImage Image)> ReviewedGalleryAsync(AppUser member, TeamRole role)
    {
        var owner = await AddUserAsync($"owner-of-{member.Email}");
        var image = await AddImageAsync(owner.Id, "a poster for the client");
        await using var db = CreateDb();
        var team = new Team { Id = Guid.NewGuid(), Name = "Agency", CreatedAt = MadeAt };
        db.Teams.Add(team);
        db.TeamMembers.Add(new TeamMember { TeamId = team.Id, UserId = owner.Id, Role = TeamRole.Owner, JoinedAt = MadeAt });
        db.TeamMembers.Add(new TeamMember { TeamId = team.Id, UserId = member.Id, Role = role, JoinedAt = MadeAt });
        var gallery = new T2IStudio.Data.Entities.Gallery { Id = Guid.NewGuid(), Name = "Client X", TeamId = team.Id, CreatedAt = MadeAt, ReviewRequired = true };
        db.Galleries.Add(gallery);
        db.GalleryItems.Add(new GalleryItem { GalleryId = gallery.Id, ImageId = image.Id, AddedById = owner.Id, AddedAt = MadeAt, ReviewState = ReviewState.NeedsReview });
        await db.SaveChangesAsync();
        return (gallery.Id, image);
    }

    private async Task<ReviewState?> StateAsync(Guid galleryId, Guid imageId)
    {
        await using var db = CreateDb();
        return await db.GalleryItems.AsNoTracking().Where(i => i.GalleryId == galleryId && i.ImageId == imageId).Select(i => i.ReviewState).SingleAsync();
    }
}
