using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Comments;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Images;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>A team's activity feed: what writes it, the order and pages it reads in, and who may read and hear it.</summary>
public class TeamActivityTests
{
    /// <summary>The app under test, as <c>NewApp(storageRoot, settings)</c>; a derived class runs the same tests on another engine.</summary>
    protected virtual StudioAppFactory NewApp(string? storageRoot = null, IDictionary<string, string?>? settings = null) => new(storageRoot, settings);

    [Fact]
    public async Task A_comments_quote_in_the_feed_follows_its_edit_and_goes_with_its_delete()
    {
        using var app = NewApp();
        var ana = await app.CreateUserAsync("q-ana@example.test", displayName: "Ana");
        using var scope = app.Services.CreateScope();
        var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
        var galleries = scope.ServiceProvider.GetRequiredService<GalleryService>();
        var comments = scope.ServiceProvider.GetRequiredService<CommentService>();
        var anaP = StudioAppFactory.PrincipalOf(ana);
        var teamId = (await teams.CreateAsync(anaP, "Quotes")).Id!.Value;
        var galleryId = (await galleries.CreateAsync(anaP, "Wall", teamId)).Id!.Value;
        var imageId = (await app.GenerateAsync(ana, GenerationQueueTests.Request(steps: 2) with { GalleryId = galleryId })).ImageIds.Single();
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        Task<string?> QuoteAsync() => db.TeamActivities.AsNoTracking().Where(a => a.TeamId == teamId && a.Kind == TeamActivityKind.Commented).Select(a => a.Detail).SingleAsync();

        var commentId = (await comments.AddAsync(anaP, imageId, "The client's secret launch date is May 4")).Id!.Value;
        Assert.Equal("The client's secret launch date is May 4", await QuoteAsync());

        Assert.True((await comments.EditAsync(anaP, commentId, "Launch date to be confirmed")).Succeeded);
        Assert.Equal("Launch date to be confirmed", await QuoteAsync());

        Assert.True((await comments.DeleteAsync(anaP, commentId)).Succeeded);
        Assert.Null(await QuoteAsync());
    }

    [Fact]
    public async Task Each_change_in_a_team_writes_its_entry_newest_first_and_private_galleries_write_nothing()
    {
        using var app = NewApp();
        var ana = await app.CreateUserAsync("a-ana@example.test", displayName: "Ana");
        var ben = await app.CreateUserAsync("a-ben@example.test", displayName: "Ben");
        var cy = await app.CreateUserAsync("a-cy@example.test", displayName: "Cy");
        using var scope = app.Services.CreateScope();
        var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
        var galleries = scope.ServiceProvider.GetRequiredService<GalleryService>();
        var comments = scope.ServiceProvider.GetRequiredService<CommentService>();
        var feed = scope.ServiceProvider.GetRequiredService<TeamActivityFeed>();
        var log = app.Services.GetRequiredService<TeamActivityLog>();
        var anaP = StudioAppFactory.PrincipalOf(ana);
        var benP = StudioAppFactory.PrincipalOf(ben);
        var teamId = (await teams.CreateAsync(anaP, "Agency")).Id!.Value;
        Assert.True((await teams.JoinByInvitationAsync(anaP, teamId, ben, TeamRole.Editor)).Succeeded);
        Assert.True((await teams.JoinByInvitationAsync(anaP, teamId, cy, TeamRole.Viewer)).Succeeded);
        var clientX = (await galleries.CreateAsync(anaP, "Client X", teamId)).Id!.Value;
        var mine = (await galleries.CreateAsync(anaP, "Mine", null)).Id!.Value;

        // A private gallery is nobody's team business: nothing is written for it.
        var (_, privateImages) = await app.GenerateAsync(ana, GenerationQueueTests.Request(steps: 2) with { GalleryId = mine });
        Assert.True((await galleries.RemoveAsync(anaP, mine, privateImages[0])).Succeeded);
        Assert.Equal(2, (await feed.PageAsync(anaP, teamId, null))!.Count); // the two joins only

        var (_, generated) = await app.GenerateAsync(ana, GenerationQueueTests.Request(steps: 2, batch: 2) with { GalleryId = clientX });
        var (_, bens) = await app.GenerateAsync(ben, GenerationQueueTests.Request(steps: 2, seed: 7));
        Assert.True((await galleries.AddAsync(benP, clientX, bens[0])).Succeeded);
        Assert.True((await galleries.RemoveAsync(benP, clientX, bens[0])).Succeeded);
        Assert.True((await comments.AddAsync(anaP, generated[0], "Love the colours, but the logo is too small")).Succeeded);
        await log.RecordAsync(new ActivityRecord(teamId, ana.Id, TeamActivityKind.Reviewed, clientX, generated[1], Detail: nameof(ReviewState.Approved)));
        Assert.True((await teams.RemoveMemberAsync(anaP, teamId, cy.Id)).Succeeded);
        Assert.True((await teams.LeaveAsync(benP, teamId)).Succeeded);

        var entries = (await feed.PageAsync(anaP, teamId, null))!;
        Assert.Equal(
            [TeamActivityKind.MemberLeft, TeamActivityKind.MemberLeft, TeamActivityKind.Reviewed, TeamActivityKind.Commented, TeamActivityKind.Removed,
                TeamActivityKind.Added, TeamActivityKind.Generated, TeamActivityKind.MemberJoined, TeamActivityKind.MemberJoined],
            entries.Select(e => e.Kind));
        Assert.Equal(entries.OrderByDescending(e => e.At).ThenBy(e => e.Id).Select(e => e.Id), entries.Select(e => e.Id));

        var left = entries[0];
        Assert.Equal(("Ben", "Ben", true), (left.ActorName, left.SubjectName, left.SubjectIsActor));
        var removed = entries[1];
        Assert.Equal(("Ana", "Cy", false), (removed.ActorName, removed.SubjectName, removed.SubjectIsActor));
        var reviewed = entries[2];
        Assert.Equal(("Ana", nameof(ReviewState.Approved), generated[1]), (reviewed.ActorName, reviewed.Detail, reviewed.ImageId));
        var commented = entries[3];
        Assert.Equal(("Ana", "Love the colours, but the logo is too small", generated[0]), (commented.ActorName, commented.Detail, commented.ImageId));
        // Ben's image left the team's gallery: it is his alone again, so Ana's feed shows no thumbnail of it.
        Assert.Equal(("Ben", (Guid?)null), (entries[4].ActorName, entries[4].ImageId));
        Assert.Equal(("Ben", (Guid?)null), (entries[5].ActorName, entries[5].ImageId));
        var made = entries[6];
        Assert.Equal(("Ana", "2 images", generated[0]), (made.ActorName, made.Detail, made.ImageId));
        Assert.All(entries.Skip(2).Take(5), e => Assert.Equal((clientX, "Client X", true), (e.GalleryId!.Value, e.GalleryName, e.CanOpenGallery)));
        Assert.Equal(["Cy", "Ben"], entries.Skip(7).Select(e => e.SubjectName));
        Assert.All(entries.Skip(7), e => Assert.Equal(e.ActorName, e.SubjectName));

        // A deleted gallery keeps its name in the feed but no longer links anywhere; its images there go with it.
        Assert.True((await galleries.DeleteAsync(anaP, clientX)).Succeeded);
        var after = (await feed.PageAsync(anaP, teamId, null))!;
        Assert.All(after.Where(e => e.GalleryName is not null), e => Assert.Equal(("Client X", false, (Guid?)null), (e.GalleryName, e.CanOpenGallery, e.GalleryId)));
        // Ana's own images stay hers, so their entries still show them.
        Assert.Equal(generated[0], after.Single(e => e.Kind == TeamActivityKind.Generated).ImageId);
    }

    [Fact]
    public async Task Keyset_pages_cover_every_entry_once_in_order_while_new_entries_arrive()
    {
        using var app = NewApp();
        var ana = await app.CreateUserAsync("p-ana@example.test", displayName: "Ana");
        using var scope = app.Services.CreateScope();
        var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
        var feed = scope.ServiceProvider.GetRequiredService<TeamActivityFeed>();
        var log = app.Services.GetRequiredService<TeamActivityLog>();
        var anaP = StudioAppFactory.PrincipalOf(ana);
        var teamId = (await teams.CreateAsync(anaP, "Busy")).Id!.Value;

        // 70 entries in groups of 7 that share one instant, so the id decides the order within a group.
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        var written = new List<TeamActivity>();
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync())
        {
            for (var i = 0; i < 70; i++)
            {
                written.Add(new TeamActivity
                {
                    Id = Guid.NewGuid(), TeamId = teamId, At = start.AddSeconds(i / 7), ActorId = ana.Id, Kind = TeamActivityKind.Added,
                    Detail = i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                });
            }
            db.TeamActivities.AddRange(written);
            await db.SaveChangesAsync();
        }
        var expected = written.OrderByDescending(e => e.At).ThenBy(e => e.Id).Select(e => e.Id).ToList();

        var first = (await feed.PageAsync(anaP, teamId, null, 30))!;
        Assert.Equal(expected.Take(30), first.Select(e => e.Id));
        // Entries written between pages land above the first page and move nothing below it.
        await log.RecordAsync([.. Enumerable.Range(0, 3).Select(_ => new ActivityRecord(teamId, ana.Id, TeamActivityKind.Commented, Detail: "new"))]);
        var second = (await feed.PageAsync(anaP, teamId, first[^1].Position, 30))!;
        var third = (await feed.PageAsync(anaP, teamId, second[^1].Position, 30))!;
        Assert.Equal(expected, first.Concat(second).Concat(third).Select(e => e.Id));
        Assert.Equal(10, third.Count);
        Assert.Empty((await feed.PageAsync(anaP, teamId, third[^1].Position, 30))!);

        // What is newer than the top of the first page is exactly the three, newest first.
        var newer = (await feed.NewerAsync(anaP, teamId, first[0].Position))!;
        Assert.Equal(3, newer.Count);
        Assert.All(newer, e => Assert.Equal("new", e.Detail));
        Assert.True(newer[0].At > newer[1].At && newer[1].At > newer[2].At && newer[2].At > first[0].At);
        Assert.Empty((await feed.NewerAsync(anaP, teamId, newer[0].Position))!);
    }

    [Fact]
    public async Task Outsiders_and_former_members_read_no_feed_and_a_removed_member_stops_hearing_of_it()
    {
        using var app = NewApp();
        var ana = await app.CreateUserAsync("h-ana@example.test", displayName: "Ana");
        var ben = await app.CreateUserAsync("h-ben@example.test", displayName: "Ben");
        var eve = await app.CreateUserAsync("h-eve@example.test", displayName: "Eve");
        using var scope = app.Services.CreateScope();
        var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
        var galleries = scope.ServiceProvider.GetRequiredService<GalleryService>();
        var feed = scope.ServiceProvider.GetRequiredService<TeamActivityFeed>();
        var anaP = StudioAppFactory.PrincipalOf(ana);
        var benP = StudioAppFactory.PrincipalOf(ben);
        var eveP = StudioAppFactory.PrincipalOf(eve);
        var teamId = (await teams.CreateAsync(anaP, "Quiet")).Id!.Value;
        Assert.True((await teams.JoinByInvitationAsync(anaP, teamId, ben, TeamRole.Editor)).Succeeded);
        var galleryId = (await galleries.CreateAsync(anaP, "Board", teamId)).Id!.Value;
        using var benHears = new JobWaiter(app.Services, ben.Id);
        using var eveHears = new JobWaiter(app.Services, eve.Id);

        var (_, images) = await app.GenerateAsync(ana, GenerationQueueTests.Request(steps: 2) with { GalleryId = galleryId });
        Assert.Contains(benHears.Events, e => e is TeamActivityAdded a && a.TeamId == teamId);
        Assert.DoesNotContain(eveHears.Events, e => e is TeamActivityAdded);
        Assert.NotEmpty((await feed.PageAsync(benP, teamId, null))!);
        Assert.Null(await feed.PageAsync(eveP, teamId, null));
        Assert.Null(await feed.NewerAsync(eveP, teamId, new(DateTimeOffset.MinValue, Guid.Empty)));
        Assert.Null(await feed.PageAsync(anaP, Guid.NewGuid(), null)); // no such team reads the same

        Assert.True((await teams.RemoveMemberAsync(anaP, teamId, ben.Id)).Succeeded);
        var heardBefore = benHears.Events.Count(e => e is TeamActivityAdded);
        Assert.True((await galleries.RemoveAsync(anaP, galleryId, images[0])).Succeeded);
        Assert.Equal(heardBefore, benHears.Events.Count(e => e is TeamActivityAdded));
        Assert.Null(await feed.PageAsync(benP, teamId, null));
        Assert.Equal(TeamActivityKind.Removed, (await feed.PageAsync(anaP, teamId, null))![0].Kind);
    }
}
