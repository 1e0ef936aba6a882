using System.Security.Claims;
using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Components.Images;
using T2IStudio.Web.Tests.Infrastructure;
using FeedTab = T2IStudio.Web.Components.Teams.TeamActivityFeed;

namespace T2IStudio.Web.Tests.Components.Teams;

public sealed class TeamActivityFeedTests : ImageComponentTestBase
{
    [Fact]
    public async Task Entries_read_as_sentences_newest_first_with_links_to_the_gallery_and_image()
    {
        var (ana, teamId, galleryId) = await TeamWithGalleryAsync();
        var ben = await AddUserAsync("ben@example.test");
        var image = await AddImageAsync(ana.Id, "a poster");
        var log = Services.GetRequiredService<TeamActivityLog>();
        Assert.True((await Services.GetRequiredService<GalleryService>().AddAsync(Principal(ana.Id), galleryId, image.Id)).Succeeded);
        await log.RecordAsync(new ActivityRecord(teamId, ana.Id, TeamActivityKind.Generated, galleryId, image.Id, Detail: "4 images"));
        await log.RecordAsync(new ActivityRecord(teamId, ana.Id, TeamActivityKind.Reviewed, galleryId, image.Id, Detail: nameof(ReviewState.ChangesRequested)));
        await log.RecordAsync(new ActivityRecord(teamId, ana.Id, TeamActivityKind.Reviewed, galleryId, image.Id, Detail: nameof(ReviewState.NeedsReview)));
        await log.RecordAsync(new ActivityRecord(teamId, ana.Id, TeamActivityKind.Commented, galleryId, image.Id,
            Detail: "The logo needs to be much bigger and the background should be a warmer shade of orange, like the client's brand guide says"));
        await log.RecordAsync(new ActivityRecord(teamId, ben.Id, TeamActivityKind.MemberJoined, SubjectUserId: ben.Id, Detail: "ben"));
        await log.RecordAsync(new ActivityRecord(teamId, ana.Id, TeamActivityKind.MemberLeft, SubjectUserId: ben.Id, Detail: "ben"));
        await log.RecordAsync(new ActivityRecord(teamId, ben.Id, TeamActivityKind.MemberLeft, SubjectUserId: ben.Id, Detail: "ben"));

        var feed = Render<FeedTab>(p => p.Add(f => f.TeamId, teamId));

        feed.WaitForAssertion(() => Assert.Equal(8, feed.FindAll("[role=list][aria-label='Team activity'] [role=listitem]").Count));
        Assert.Equal(
        [
            "ben left the team",
            "Ana removed ben from the team",
            "ben joined the team",
            "Ana commented on an image in Client X: “The logo needs to be much bigger and the background should be a warmer shade of…”",
            "Ana marked an image in Client X as needing review",
            "Ana requested changes to an image in Client X",
            "Ana generated 4 images into Client X",
            "Ana added an image to Client X",
        ], Sentences(feed));
        var imageLink = $"/gallery?g={galleryId}&image={image.Id}";
        var added = feed.FindAll("[role=listitem]")[^1];
        Assert.Equal(imageLink, added.QuerySelector("a.studio-activity-gallery")!.GetAttribute("href"));
        Assert.Equal(imageLink, added.QuerySelector("a.studio-activity-thumb")!.GetAttribute("href"));
        Assert.Equal($"/images/{image.Id}/thumb", added.QuerySelector("a.studio-activity-thumb img")!.GetAttribute("src"));
        Assert.Contains("just now", added.QuerySelector("time")!.TextContent, StringComparison.Ordinal);
        Assert.Empty(feed.FindAll("[role=listitem]")[0].QuerySelectorAll("a")); // membership entries link nowhere
        Assert.DoesNotContain(feed.FindAll("button"), b => b.TextContent.Trim() == "Load more");

        // Out of the gallery, the image is no longer the team's: the entry keeps the gallery link, without the thumbnail.
        Assert.True((await Services.GetRequiredService<GalleryService>().DeleteAsync(Principal(ana.Id), galleryId)).Succeeded);
        var reread = Render<FeedTab>(p => p.Add(f => f.TeamId, teamId));
        reread.WaitForAssertion(() => Assert.Equal(8, reread.FindAll("[role=listitem]").Count));
        Assert.Equal("Ana added an image to Client X", Sentences(reread)[^1]);
        Assert.Empty(reread.FindAll("a.studio-activity-gallery"));
        Assert.Equal(5, reread.FindAll(".studio-activity-thumb").Count); // Ana's own image, still hers
    }

    [Fact]
    public async Task A_team_with_no_activity_says_so()
    {
        var (_, teamId, _) = await TeamWithGalleryAsync();

        var feed = Render<FeedTab>(p => p.Add(f => f.TeamId, teamId));

        feed.WaitForAssertion(() => Assert.Contains("Nothing has happened in this team yet", feed.Find("[role=status]").TextContent, StringComparison.Ordinal));
        Assert.Empty(feed.FindAll("[role=list]"));
    }

    [Fact]
    public async Task Load_more_pages_on_and_a_new_entry_comes_in_on_top_without_losing_the_loaded_pages()
    {
        var (ana, teamId, galleryId) = await TeamWithGalleryAsync();
        var start = DateTimeOffset.UtcNow.AddHours(-2);
        await using (var db = CreateDb())
        {
            db.TeamActivities.AddRange(Enumerable.Range(0, 35).Select(i => new TeamActivity
            {
                Id = Guid.NewGuid(), TeamId = teamId, At = start.AddMinutes(i), ActorId = ana.Id, Kind = TeamActivityKind.Generated,
                GalleryId = galleryId, GalleryName = "Client X", Detail = $"{i + 1} images",
            }));
            await db.SaveChangesAsync();
        }
        var feed = Render<FeedTab>(p => p.Add(f => f.TeamId, teamId));
        feed.WaitForAssertion(() => Assert.Equal(30, feed.FindAll("[role=listitem]").Count));
        Assert.Equal("Ana generated 35 images into Client X", Sentences(feed)[0]);

        await feed.InvokeAsync(() => feed.FindAll("button").Single(b => b.TextContent.Trim() == "Load more").Click());
        feed.WaitForAssertion(() => Assert.Equal(35, feed.FindAll("[role=listitem]").Count));
        Assert.DoesNotContain(feed.FindAll("button"), b => b.TextContent.Trim() == "Load more");

        await Services.GetRequiredService<TeamActivityLog>().RecordAsync(new ActivityRecord(teamId, ana.Id, TeamActivityKind.Removed, galleryId));

        feed.WaitForAssertion(() => Assert.Equal(36, feed.FindAll("[role=listitem]").Count));
        var sentences = Sentences(feed);
        Assert.Equal("Ana removed an image from Client X", sentences[0]);
        Assert.Equal([.. Enumerable.Range(1, 35).Reverse().Select(n => $"Ana generated {n} images into Client X")], sentences.Skip(1));
    }

    private async Task<(AppUser Ana, Guid TeamId, Guid GalleryId)> TeamWithGalleryAsync()
    {
        var ana = await SignInAsync("ana@example.test");
        await using (var db = CreateDb())
        {
            await db.Users.Where(u => u.Id == ana.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.DisplayName, "Ana"));
        }
        var teamId = (await Services.GetRequiredService<TeamService>().CreateAsync(Principal(ana.Id), "Agency")).Id!.Value;
        var galleryId = (await Services.GetRequiredService<GalleryService>().CreateAsync(Principal(ana.Id), "Client X", teamId)).Id!.Value;
        return (ana, teamId, galleryId);
    }

    private static List<string> Sentences(IRenderedComponent<FeedTab> feed) =>
        [.. feed.FindAll(".studio-activity-sentence").Select(s => string.Join(' ', s.TextContent.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)))];
}
