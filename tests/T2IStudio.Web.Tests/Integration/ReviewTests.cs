using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Comments;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Images;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>
/// Review in team galleries: owners switch it on, owners and editors set states, viewers see them, outsiders find
/// nothing; each change leaves a review entry, a notification for the author, an activity entry and live events.
/// </summary>
public class ReviewTests
{
    /// <summary>The app under test, as <c>NewApp(storageRoot, settings)</c>; a derived class runs the same tests on another engine.</summary>
    protected virtual StudioAppFactory NewApp(string? storageRoot = null, IDictionary<string, string?>? settings = null) => new(storageRoot, settings);

    [Fact]
    public async Task Owners_switch_review_on_owners_and_editors_set_states_viewers_only_see_them_and_outsiders_find_nothing()
    {
        using var app = NewApp();
        var team = await TeamAsync(app, "r1");
        using var scope = app.Services.CreateScope();
        var galleries = scope.ServiceProvider.GetRequiredService<GalleryService>();
        var reviews = scope.ServiceProvider.GetRequiredService<ReviewService>();

        // Made while review is off: no state yet, and nobody can review or read a review.
        var early = (await app.GenerateAsync(team.Editor, GenerationQueueTests.Request(prompt: "early draft", steps: 2) with { GalleryId = team.GalleryId })).ImageIds.Single();
        Assert.Null(await ItemStateAsync(app, team.GalleryId, early));
        Assert.Null(await reviews.GetAsync(team.OwnerP, team.GalleryId, early));
        Assert.Equal(["Review is off in this gallery."], (await reviews.SetStateAsync(team.OwnerP, team.GalleryId, early, ReviewState.Approved)).Errors);

        // Only the gallery's owners switch it, only in a team gallery; outsiders find no gallery.
        Assert.Equal(["Only the gallery's owners can switch review on or off."], (await reviews.SetReviewRequiredAsync(team.EditorP, team.GalleryId, true)).Errors);
        Assert.Equal(["Only the gallery's owners can switch review on or off."], (await reviews.SetReviewRequiredAsync(team.ViewerP, team.GalleryId, true)).Errors);
        Assert.True((await reviews.SetReviewRequiredAsync(team.OutsiderP, team.GalleryId, true)).NotFound);
        var privateGallery = (await galleries.CreateAsync(team.OwnerP, "Just mine", null)).Id!.Value;
        var refusal = Assert.Single((await reviews.SetReviewRequiredAsync(team.OwnerP, privateGallery, true)).Errors);
        Assert.Contains("team galleries", refusal, StringComparison.Ordinal);
        Assert.True((await reviews.SetReviewRequiredAsync(team.OutsiderP, privateGallery, true)).NotFound);

        Assert.True((await reviews.SetReviewRequiredAsync(team.OwnerP, team.GalleryId, true)).Succeeded);
        Assert.True((await galleries.GetAsync(team.ViewerP, team.GalleryId))!.ReviewRequired);
        // Switching on marks what was there; what arrives afterwards starts as Needs review too.
        Assert.Equal(ReviewState.NeedsReview, await ItemStateAsync(app, team.GalleryId, early));
        var later = (await app.GenerateAsync(team.Owner, GenerationQueueTests.Request(prompt: "later draft", steps: 2) with { GalleryId = team.GalleryId })).ImageIds.Single();
        Assert.Equal(ReviewState.NeedsReview, await ItemStateAsync(app, team.GalleryId, later));

        // Viewers see the state but are refused; outsiders read nothing and change nothing.
        var seen = await reviews.GetAsync(team.ViewerP, team.GalleryId, early);
        Assert.Equal(new ReviewView(ReviewState.NeedsReview, null, null, CanReview: false), seen);
        Assert.Equal(["Viewers cannot review images."], (await reviews.SetStateAsync(team.ViewerP, team.GalleryId, early, ReviewState.Approved)).Errors);
        Assert.Null(await reviews.GetAsync(team.OutsiderP, team.GalleryId, early));
        Assert.True((await reviews.SetStateAsync(team.OutsiderP, team.GalleryId, early, ReviewState.Approved)).NotFound);
        Assert.True((await reviews.SetStateAsync(team.OwnerP, team.GalleryId, Guid.NewGuid(), ReviewState.Approved)).NotFound);
        Assert.Equal(ReviewState.NeedsReview, await ItemStateAsync(app, team.GalleryId, early));

        // Owners and editors set it, with who and when.
        Assert.True((await reviews.SetStateAsync(team.OwnerP, team.GalleryId, early, ReviewState.Approved)).Succeeded);
        var approved = await reviews.GetAsync(team.ViewerP, team.GalleryId, early);
        Assert.Equal((ReviewState.Approved, "Olga"), (approved!.State, approved.ReviewedBy));
        Assert.NotNull(approved.ReviewedAt);
        Assert.True((await reviews.GetAsync(team.EditorP, team.GalleryId, early))!.CanReview);
        Assert.True((await reviews.SetStateAsync(team.EditorP, team.GalleryId, later, ReviewState.ChangesRequested)).Succeeded);
        var changes = await reviews.GetAsync(team.OwnerP, team.GalleryId, later);
        Assert.Equal((ReviewState.ChangesRequested, "Ed"), (changes!.State, changes.ReviewedBy));

        // Switched off, nothing reads as reviewed and nothing can be set; the states wait for it to come back.
        Assert.True((await reviews.SetReviewRequiredAsync(team.OwnerP, team.GalleryId, false)).Succeeded);
        Assert.Null(await reviews.GetAsync(team.OwnerP, team.GalleryId, early));
        Assert.Equal(["Review is off in this gallery."], (await reviews.SetStateAsync(team.EditorP, team.GalleryId, early, ReviewState.ChangesRequested)).Errors);
        Assert.True((await reviews.SetReviewRequiredAsync(team.OwnerP, team.GalleryId, true)).Succeeded);
        Assert.Equal(ReviewState.Approved, (await reviews.GetAsync(team.OwnerP, team.GalleryId, early))!.State);
    }

    [Fact]
    public async Task A_review_writes_one_entry_among_comments_that_nobody_edits_notifies_the_author_and_reaches_every_member()
    {
        using var app = NewApp();
        var team = await TeamAsync(app, "r2");
        using var scope = app.Services.CreateScope();
        var reviews = scope.ServiceProvider.GetRequiredService<ReviewService>();
        var comments = scope.ServiceProvider.GetRequiredService<CommentService>();
        var imageId = (await app.GenerateAsync(team.Editor, GenerationQueueTests.Request(prompt: "hero shot", steps: 2) with { GalleryId = team.GalleryId })).ImageIds.Single();
        Assert.True((await reviews.SetReviewRequiredAsync(team.OwnerP, team.GalleryId, true)).Succeeded);
        using var viewerHears = new JobWaiter(app.Services, team.Viewer.Id);
        using var outsiderHears = new JobWaiter(app.Services, team.Outsider.Id);

        Assert.True((await reviews.SetStateAsync(team.OwnerP, team.GalleryId, imageId, ReviewState.Approved)).Succeeded);
        // The same state again changes nothing: no second entry, no second notification.
        Assert.True((await reviews.SetStateAsync(team.OwnerP, team.GalleryId, imageId, ReviewState.Approved)).Succeeded);
        // The author reviewing their own image is not told about it.
        Assert.True((await reviews.SetStateAsync(team.EditorP, team.GalleryId, imageId, ReviewState.ChangesRequested)).Succeeded);

        var entries = (await comments.ListAsync(team.ViewerP, imageId)).Where(c => c.Review is not null).ToList();
        Assert.Equal([(ReviewState.Approved, "Olga"), (ReviewState.ChangesRequested, "Ed")], entries.Select(c => (c.Review!.Value, c.AuthorName)));
        Assert.All(entries, e => Assert.Equal(("", "Client X", false), (e.Text, e.GalleryName, e.IsMine)));
        var mine = (await comments.ListAsync(team.EditorP, imageId)).Single(c => c.Review == ReviewState.ChangesRequested);
        Assert.False(mine.IsMine); // an entry is never offered for editing, even to its author
        Assert.Equal(["A review entry cannot be edited or deleted."], (await comments.EditAsync(team.EditorP, mine.Id, "changed my mind")).Errors);
        Assert.Equal(["A review entry cannot be edited or deleted."], (await comments.DeleteAsync(team.EditorP, mine.Id)).Errors);
        Assert.Empty(await comments.ListAsync(team.OutsiderP, imageId));

        await using (var db = await Db(app))
        {
            var told = await db.Notifications.AsNoTracking().Where(n => n.UserId == team.Editor.Id).Select(n => new { n.Text, n.Link }).ToListAsync();
            var notice = Assert.Single(told);
            Assert.Equal(("Olga approved your image in Client X", $"/gallery?g={team.GalleryId}&image={imageId}"), (notice.Text, notice.Link));
            var activity = await db.TeamActivities.AsNoTracking().Where(a => a.TeamId == team.TeamId && a.Kind == TeamActivityKind.Reviewed)
                .OrderBy(a => a.At).Select(a => new { a.ActorId, a.Detail, a.ImageId, a.GalleryId }).ToListAsync();
            Assert.Equal([(team.Owner.Id, "Approved"), (team.Editor.Id, "ChangesRequested")], activity.Select(a => (a.ActorId, a.Detail!)));
            Assert.All(activity, a => Assert.Equal((imageId, team.GalleryId), (a.ImageId!.Value, a.GalleryId!.Value)));
        }

        // Every member's open views hear of it: the review itself, the image's comments, the gallery; outsiders nothing.
        Assert.Equal(2, viewerHears.Events.Count(e => e is ReviewChanged r && r.GalleryId == team.GalleryId && r.ImageId == imageId));
        Assert.Contains(viewerHears.Events, e => e is CommentsChanged c && c.ImageId == imageId);
        Assert.Contains(viewerHears.Events, e => e is GalleryUpdated u && u.GalleryId == team.GalleryId);
        Assert.DoesNotContain(outsiderHears.Events, e => e is ReviewChanged or CommentsChanged or GalleryUpdated);
    }

    [Fact]
    public async Task Two_reviewers_setting_the_same_state_at_once_leave_one_state_and_one_entry()
    {
        using var app = NewApp();
        var team = await TeamAsync(app, "r3");
        var imageId = (await app.GenerateAsync(team.Owner, GenerationQueueTests.Request(prompt: "contested", steps: 2) with { GalleryId = team.GalleryId })).ImageIds.Single();
        using (var scope = app.Services.CreateScope())
        {
            Assert.True((await scope.ServiceProvider.GetRequiredService<ReviewService>().SetReviewRequiredAsync(team.OwnerP, team.GalleryId, true)).Succeeded);
        }

        async Task<bool> ReviewAsync(System.Security.Claims.ClaimsPrincipal who)
        {
            using var scope = app.Services.CreateScope();
            return (await scope.ServiceProvider.GetRequiredService<ReviewService>().SetStateAsync(who, team.GalleryId, imageId, ReviewState.Approved)).Succeeded;
        }
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(k => Task.Run(() => ReviewAsync(k % 2 == 0 ? team.OwnerP : team.EditorP))));

        Assert.All(results, r => Assert.True(r));
        await using var db = await Db(app);
        Assert.Equal(1, await db.Comments.CountAsync(c => c.ImageId == imageId && c.Review != null));
        var item = await db.GalleryItems.AsNoTracking().SingleAsync(i => i.GalleryId == team.GalleryId && i.ImageId == imageId);
        var entry = await db.Comments.AsNoTracking().SingleAsync(c => c.ImageId == imageId && c.Review != null);
        Assert.Equal((ReviewState.Approved, entry.AuthorId), (item.ReviewState!.Value, item.ReviewedById!));
    }

    [Fact]
    public async Task The_review_state_filter_counts_each_state_and_an_item_without_one_as_needs_review()
    {
        using var app = NewApp();
        var team = await TeamAsync(app, "r4");
        using var scope = app.Services.CreateScope();
        var reviews = scope.ServiceProvider.GetRequiredService<ReviewService>();
        var galleries = scope.ServiceProvider.GetRequiredService<GalleryService>();
        var (_, images) = await app.GenerateAsync(team.Owner, GenerationQueueTests.Request(prompt: "four takes", steps: 2, batch: 4) with { GalleryId = team.GalleryId });
        Assert.True((await reviews.SetReviewRequiredAsync(team.OwnerP, team.GalleryId, true)).Succeeded);
        Assert.True((await reviews.SetStateAsync(team.OwnerP, team.GalleryId, images[0], ReviewState.Approved)).Succeeded);
        Assert.True((await reviews.SetStateAsync(team.EditorP, team.GalleryId, images[1], ReviewState.ChangesRequested)).Succeeded);
        await using (var db = await Db(app))
        {
            // As if it came in by a path that left no state: it still reads as Needs review.
            await db.GalleryItems.Where(i => i.GalleryId == team.GalleryId && i.ImageId == images[3]).ExecuteUpdateAsync(u => u.SetProperty(i => i.ReviewState, (ReviewState?)null));
        }

        async Task<IReadOnlyList<Guid>> IdsAsync(ReviewState? state)
        {
            var (tiles, total) = await galleries.PageAsync(team.ViewerP, team.GalleryId, new GalleryFilter(Review: state), 0, 10);
            Assert.Equal(total, tiles.Count);
            return [.. tiles.Select(t => t.Id).Order()];
        }
        Assert.Equal(images.Order(), await IdsAsync(null));
        Assert.Equal([images[0]], await IdsAsync(ReviewState.Approved));
        Assert.Equal([images[1]], await IdsAsync(ReviewState.ChangesRequested));
        Assert.Equal(new[] { images[2], images[3] }.Order(), await IdsAsync(ReviewState.NeedsReview));

        // Tiles carry the state for their badges while review is on, and none once it is off.
        var tiles = (await galleries.PageAsync(team.ViewerP, team.GalleryId, new GalleryFilter(), 0, 10)).Tiles.ToDictionary(t => t.Id, t => t.Review);
        Assert.Equal([ReviewState.Approved, ReviewState.ChangesRequested, ReviewState.NeedsReview, ReviewState.NeedsReview], images.Select(i => tiles[i]));
        Assert.True((await reviews.SetReviewRequiredAsync(team.OwnerP, team.GalleryId, false)).Succeeded);
        Assert.All((await galleries.PageAsync(team.ViewerP, team.GalleryId, new GalleryFilter(), 0, 10)).Tiles, t => Assert.Null(t.Review));
        Assert.Empty((await galleries.PageAsync(team.OutsiderP, team.GalleryId, new GalleryFilter(Review: ReviewState.Approved), 0, 10)).Tiles);
    }

    [Fact]
    public async Task A_reviewer_changing_their_mind_within_five_minutes_updates_their_entry_and_tells_the_author_once()
    {
        using var app = NewApp();
        var team = await TeamAsync(app, "r5");
        using var scope = app.Services.CreateScope();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        var reviews = ActivatorUtilities.CreateInstance<ReviewService>(scope.ServiceProvider, (TimeProvider)time);
        var imageId = (await app.GenerateAsync(team.Editor, GenerationQueueTests.Request(prompt: "toggled", steps: 2) with { GalleryId = team.GalleryId })).ImageIds.Single();
        Assert.True((await reviews.SetReviewRequiredAsync(team.OwnerP, team.GalleryId, true)).Succeeded);

        Assert.True((await reviews.SetStateAsync(team.OwnerP, team.GalleryId, imageId, ReviewState.Approved)).Succeeded);
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.True((await reviews.SetStateAsync(team.OwnerP, team.GalleryId, imageId, ReviewState.ChangesRequested)).Succeeded);
        time.Advance(TimeSpan.FromMinutes(4)); // under five minutes after the entry's last change
        Assert.True((await reviews.SetStateAsync(team.OwnerP, team.GalleryId, imageId, ReviewState.NeedsReview)).Succeeded);
        time.Advance(TimeSpan.FromMinutes(5)); // five minutes on: a new entry
        Assert.True((await reviews.SetStateAsync(team.OwnerP, team.GalleryId, imageId, ReviewState.Approved)).Succeeded);

        await using var db = await Db(app);
        var entries = await db.Comments.AsNoTracking().Where(c => c.ImageId == imageId && c.Review != null).ToListAsync();
        var start = new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);
        Assert.Equal([(ReviewState.NeedsReview, start.AddMinutes(6)), (ReviewState.Approved, start.AddMinutes(11))],
            entries.OrderBy(e => e.CreatedAt.UtcTicks).Select(e => (e.Review!.Value, e.CreatedAt.ToUniversalTime())));
        var item = await db.GalleryItems.AsNoTracking().SingleAsync(i => i.GalleryId == team.GalleryId && i.ImageId == imageId);
        Assert.Equal((ReviewState.Approved, start.AddMinutes(11)), (item.ReviewState!.Value, item.ReviewedAt!.Value.ToUniversalTime()));
        var told = await db.Notifications.AsNoTracking().Where(n => n.UserId == team.Editor.Id).Select(n => n.Text).ToListAsync();
        Assert.Equal(["Olga approved your image in Client X", "Olga approved your image in Client X"], told);
        // The team's feed still records every change.
        Assert.Equal(4, await db.TeamActivities.CountAsync(a => a.TeamId == team.TeamId && a.Kind == TeamActivityKind.Reviewed));
    }

    [Fact]
    public async Task An_author_removed_from_the_team_is_not_told_of_reviews_in_its_gallery()
    {
        using var app = NewApp();
        var team = await TeamAsync(app, "r6");
        using var scope = app.Services.CreateScope();
        var reviews = scope.ServiceProvider.GetRequiredService<ReviewService>();
        var imageId = (await app.GenerateAsync(team.Editor, GenerationQueueTests.Request(prompt: "left behind", steps: 2) with { GalleryId = team.GalleryId })).ImageIds.Single();
        Assert.True((await reviews.SetReviewRequiredAsync(team.OwnerP, team.GalleryId, true)).Succeeded);
        Assert.True((await scope.ServiceProvider.GetRequiredService<TeamService>().RemoveMemberAsync(team.OwnerP, team.TeamId, team.Editor.Id)).Succeeded);

        Assert.True((await reviews.SetStateAsync(team.OwnerP, team.GalleryId, imageId, ReviewState.Approved)).Succeeded);

        await using var db = await Db(app);
        Assert.Equal(ReviewState.Approved, await ItemStateAsync(app, team.GalleryId, imageId));
        Assert.False(await db.Notifications.AnyAsync(n => n.UserId == team.Editor.Id));
    }

    [Fact]
    public async Task A_review_entry_is_listed_to_nobody_once_its_gallery_is_deleted()
    {
        using var app = NewApp();
        var team = await TeamAsync(app, "r7");
        using var scope = app.Services.CreateScope();
        var reviews = scope.ServiceProvider.GetRequiredService<ReviewService>();
        var comments = scope.ServiceProvider.GetRequiredService<CommentService>();
        var galleries = scope.ServiceProvider.GetRequiredService<GalleryService>();
        // Team A (Olga, Ed, Vic) holds the image in "Client X"; team B (Olga alone) holds it too and reviews it there.
        var imageId = (await app.GenerateAsync(team.Owner, GenerationQueueTests.Request(prompt: "shared shot", steps: 2) with { GalleryId = team.GalleryId })).ImageIds.Single();
        var teamB = (await scope.ServiceProvider.GetRequiredService<TeamService>().CreateAsync(team.OwnerP, "Studio B")).Id!.Value;
        var galleryB = (await galleries.CreateAsync(team.OwnerP, "Client Y", teamB)).Id!.Value;
        Assert.True((await galleries.AddAsync(team.OwnerP, galleryB, imageId)).Succeeded);
        Assert.True((await reviews.SetReviewRequiredAsync(team.OwnerP, galleryB, true)).Succeeded);
        Assert.True((await reviews.SetStateAsync(team.OwnerP, galleryB, imageId, ReviewState.Approved)).Succeeded);
        Assert.True((await comments.AddAsync(team.EditorP, imageId, "looks good")).Succeeded);
        Assert.Contains(await comments.ListAsync(team.OwnerP, imageId), c => c.Review == ReviewState.Approved && c.GalleryName == "Client Y");
        Assert.DoesNotContain(await comments.ListAsync(team.ViewerP, imageId), c => c.Review is not null);

        Assert.True((await galleries.DeleteAsync(team.OwnerP, galleryB)).Succeeded);

        // Team A still sees the image and its written comments, but team B's review never shows up.
        Assert.Equal(["looks good"], (await comments.ListAsync(team.ViewerP, imageId)).Select(c => c.Text));
        Assert.DoesNotContain(await comments.ListAsync(team.EditorP, imageId), c => c.Review is not null);
        Assert.DoesNotContain(await comments.ListAsync(team.OwnerP, imageId), c => c.Review is not null);
    }

    /// <summary>A team (owner Olga, editor Ed, viewer Vic) with the gallery "Client X", and an outsider.</summary>
    internal sealed record ReviewTeam(AppUser Owner, AppUser Editor, AppUser Viewer, AppUser Outsider, Guid TeamId, Guid GalleryId)
    {
        public System.Security.Claims.ClaimsPrincipal OwnerP => StudioAppFactory.PrincipalOf(Owner);

        public System.Security.Claims.ClaimsPrincipal EditorP => StudioAppFactory.PrincipalOf(Editor);

        public System.Security.Claims.ClaimsPrincipal ViewerP => StudioAppFactory.PrincipalOf(Viewer);

        public System.Security.Claims.ClaimsPrincipal OutsiderP => StudioAppFactory.PrincipalOf(Outsider);
    }

    internal static async Task<ReviewTeam> TeamAsync(StudioAppFactory app, string tag)
    {
        var owner = await app.CreateUserAsync($"{tag}-owner@example.test", displayName: "Olga");
        var editor = await app.CreateUserAsync($"{tag}-editor@example.test", displayName: "Ed");
        var viewer = await app.CreateUserAsync($"{tag}-viewer@example.test", displayName: "Vic");
        var outsider = await app.CreateUserAsync($"{tag}-outsider@example.test", displayName: "Otto");
        // With email on (the image-activity email tests use this team), only confirmed addresses accept invitations.
        await app.ConfirmEmailAsync(editor);
        await app.ConfirmEmailAsync(viewer);
        using var scope = app.Services.CreateScope();
        var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
        var ownerP = StudioAppFactory.PrincipalOf(owner);
        var teamId = (await teams.CreateAsync(ownerP, "Agency")).Id!.Value;
        Assert.True((await teams.JoinByInvitationAsync(ownerP, teamId, editor, TeamRole.Editor)).Succeeded);
        Assert.True((await teams.JoinByInvitationAsync(ownerP, teamId, viewer, TeamRole.Viewer)).Succeeded);
        var galleryId = (await scope.ServiceProvider.GetRequiredService<GalleryService>().CreateAsync(ownerP, "Client X", teamId)).Id!.Value;
        return new ReviewTeam(owner, editor, viewer, outsider, teamId, galleryId);
    }

    private static Task<AppDbContext> Db(StudioAppFactory app) =>
        app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();

    private static async Task<ReviewState?> ItemStateAsync(StudioAppFactory app, Guid galleryId, Guid imageId)
    {
        await using var db = await Db(app);
        return await db.GalleryItems.AsNoTracking().Where(i => i.GalleryId == galleryId && i.ImageId == imageId).Select(i => i.ReviewState).SingleAsync();
    }
}
