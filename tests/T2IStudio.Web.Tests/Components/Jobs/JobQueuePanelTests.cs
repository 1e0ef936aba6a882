using System.Security.Claims;
using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Web.Components.Jobs;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components.Jobs;

public sealed class JobQueuePanelTests : StudioComponentTestBase
{
    [Fact]
    public async Task The_persons_jobs_are_listed_and_a_pushed_standing_moves_a_card_in_line()
    {
        var (user, principal) = await SignInWithPrincipalAsync("mine@example.test");
        var jobId = await SubmitAsync(principal, "a teal hexagon");

        var panel = Render<JobQueuePanel>(p => p.Add(c => c.Scope, JobPanelScope.Mine));
        panel.WaitForAssertion(() => Assert.Equal("Waiting for a worker with t2istudio-tiny", Status(panel)));
        Assert.Equal("My jobs", panel.Find("[role=list]").GetAttribute("aria-label"));

        Publish(new JobStandingChanged(jobId, user.Id, new QueueStanding(3, 0, 20, TimeSpan.FromSeconds(40))));

        panel.WaitForAssertion(() => Assert.Equal("3 ahead in line · about 40 s left", Status(panel)));
    }

    [Fact]
    public async Task A_completed_job_shows_the_images_its_event_names_and_raises_the_callbacks()
    {
        var (user, principal) = await SignInWithPrincipalAsync("done@example.test");
        var jobId = await SubmitAsync(principal, "a lime star");
        JobCardState? completed = null;
        var changes = 0;
        var panel = Render<JobQueuePanel>(p => p
            .Add(c => c.Scope, JobPanelScope.Mine)
            .Add(c => c.OnJobCompleted, (JobCardState card) => completed = card)
            .Add(c => c.OnJobsChanged, () => changes++));
        panel.WaitForAssertion(() => Assert.Equal(1, changes)); // loaded
        var imageId = Guid.NewGuid();

        Publish(new JobCompleted(jobId, user.Id, [imageId]));

        panel.WaitForAssertion(() => Assert.Equal("Done · 1 image · 64×64", Status(panel)));
        Assert.Equal($"/images/{imageId}/thumb", panel.Find("button[aria-label='Open image 1 of 1: a lime star'] img").GetAttribute("src"));
        Assert.Empty(panel.FindAll("[role=progressbar]"));
        Assert.Equal(jobId, completed?.Id);
        Assert.Equal(2, changes);
        Assert.Equal([imageId], panel.Instance.CompletedImages(12));
    }

    [Fact]
    public async Task A_failed_job_says_why_on_its_card_and_in_a_snackbar_with_the_pages_words()
    {
        var (user, principal) = await SignInWithPrincipalAsync("failed@example.test");
        var jobId = await SubmitAsync(principal, "a grey moon");
        var panel = Render<JobQueuePanel>(p => p.Add(c => c.Scope, JobPanelScope.Mine).Add(c => c.FailurePrefix, "Inpainting failed"));
        panel.WaitForAssertion(() => Assert.Single(panel.FindAll("[role=listitem]")));

        Publish(new JobFailed(jobId, user.Id, "The worker ran out of memory."));

        panel.WaitForAssertion(() => Assert.Equal("Failed", Status(panel)));
        Assert.Contains(Services.GetRequiredService<MudBlazor.ISnackbar>().ShownSnackbars, s => s.Message == "Inpainting failed: The worker ran out of memory.");
    }

    [Fact]
    public async Task A_gallery_panel_adopts_only_jobs_saving_into_its_gallery_and_drops_them_when_they_end()
    {
        var (user, principal) = await SignInWithPrincipalAsync("gallery@example.test");
        var created = await Services.GetRequiredService<GalleryService>().CreateAsync(principal, "Moodboard", null);
        var galleryId = created.Id!.Value;
        var panel = Render<JobQueuePanel>(p => p
            .Add(c => c.Scope, JobPanelScope.Gallery)
            .Add(c => c.GalleryId, galleryId)
            .Add(c => c.Label, "In progress")
            .Add(c => c.AllowCancel, false)
            .Add(c => c.KeepFinished, 0));
        var elsewhere = await SubmitAsync(principal, "not for the board");
        var intoGallery = await SubmitAsync(principal, "for the board", galleryId);

        Publish(new JobQueued(elsewhere, user.Id));
        Publish(new JobQueued(intoGallery, user.Id));

        panel.WaitForAssertion(() => Assert.Equal("Job: for the board", Assert.Single(panel.FindAll("[role=listitem]")).GetAttribute("aria-label")));
        Assert.DoesNotContain(panel.FindAll("button"), b => b.TextContent.Trim() == "Cancel");

        Publish(new JobCanceled(intoGallery, user.Id));
        panel.WaitForAssertion(() => Assert.Empty(panel.FindAll("[role=list]")));
    }

    [Fact]
    public async Task A_submitted_panel_shows_only_the_job_it_was_handed_and_cancel_cancels_it_in_the_database()
    {
        var (user, principal) = await SignInWithPrincipalAsync("inpaint@example.test");
        var other = await SubmitAsync(principal, "from another tab");
        var mine = await SubmitAsync(principal, "from this page");
        var panel = Render<JobQueuePanel>(p => p.Add(c => c.Scope, JobPanelScope.Submitted).Add(c => c.Label, "Inpainting job"));

        Publish(new JobQueued(other, user.Id));
        await panel.InvokeAsync(() => panel.Instance.TrackAsync(mine));

        panel.WaitForAssertion(() => Assert.Equal("Job: from this page", Assert.Single(panel.FindAll("[role=listitem]")).GetAttribute("aria-label")));
        await panel.InvokeAsync(() => panel.FindAll("button").Single(b => b.TextContent.Trim() == "Cancel").Click());

        panel.WaitForAssertion(() => Assert.Equal("Cancelled", Status(panel)));
        await using var db = CreateDb();
        Assert.Equal(JobStatus.Canceled, (await db.Jobs.SingleAsync(j => j.Id == mine)).Status);
        Assert.Equal(JobStatus.Queued, (await db.Jobs.SingleAsync(j => j.Id == other)).Status);
    }

    [Fact]
    public async Task Standings_are_pushed_once_and_again_only_when_they_change()
    {
        var (user, principal) = await SignInWithPrincipalAsync("standings@example.test");
        var first = await SubmitAsync(principal, "first");
        var second = await SubmitAsync(principal, "second");
        var received = new List<JobStandingChanged>();
        using var subscription = Services.GetRequiredService<StudioNotifier>().Subscribe(user.Id, e =>
        {
            if (e is JobStandingChanged standing)
            {
                lock (received)
                {
                    received.Add(standing);
                }
            }
            return Task.CompletedTask;
        });
        var publisher = Services.GetRequiredService<StandingsPublisher>();

        await publisher.PublishAsync();
        Assert.Equal([(first, 0), (second, 1)], Received().Select(s => (s.JobId, s.Standing.Position ?? -1)).OrderBy(s => s.Item2));

        await publisher.PublishAsync();
        Assert.Equal(2, Received().Count); // nothing moved, nothing sent

        await Services.GetRequiredService<GenerationService>().CancelAsync(principal, first);
        await publisher.PublishAsync();
        var moved = Assert.Single(Received().Skip(2));
        Assert.Equal((second, 0), (moved.JobId, moved.Standing.Position ?? -1));

        List<JobStandingChanged> Received()
        {
            lock (received)
            {
                return [.. received];
            }
        }
    }

    [Fact]
    public async Task A_team_gallery_jobs_standings_reach_its_members_and_stop_at_once_for_one_who_was_removed()
    {
        var (owner, ownerPrincipal) = await SignInWithPrincipalAsync("owner@example.test");
        var member = await AddUserAsync("member@example.test");
        var teams = Services.GetRequiredService<T2IStudio.Web.Teams.TeamService>();
        var teamId = (await teams.CreateAsync(ownerPrincipal, "Poster crew")).Id!.Value;
        await teams.JoinByInvitationAsync(ownerPrincipal, teamId, member, TeamRole.Editor);
        var galleryId = (await Services.GetRequiredService<GalleryService>().CreateAsync(ownerPrincipal, "Posters", teamId)).Id!.Value;
        var first = await SubmitAsync(ownerPrincipal, "first poster", galleryId);
        var second = await SubmitAsync(ownerPrincipal, "second poster", galleryId);
        var heard = new List<(string To, Guid Job)>();
        var notifier = Services.GetRequiredService<StudioNotifier>();
        Task Listen(StudioEvent e)
        {
            if (e is JobStandingChanged standing)
            {
                lock (heard)
                {
                    heard.Add((standing.RecipientId, standing.JobId));
                }
            }
            return Task.CompletedTask;
        }
        using var memberSubscription = notifier.Subscribe(member.Id, Listen);
        using var ownerSubscription = notifier.Subscribe(owner.Id, Listen);
        var publisher = Services.GetRequiredService<StandingsPublisher>();

        await publisher.PublishAsync();
        Assert.Equal(2, Heard().Count(h => h.To == member.Id));
        Assert.Equal(2, Heard().Count(h => h.To == owner.Id));

        Assert.True((await teams.RemoveMemberAsync(ownerPrincipal, teamId, member.Id)).Succeeded);
        await Services.GetRequiredService<GenerationService>().CancelAsync(ownerPrincipal, first); // the second job moves up
        await publisher.PublishAsync();

        Assert.Equal([(owner.Id, second)], Heard().Skip(4));

        List<(string To, Guid Job)> Heard()
        {
            lock (heard)
            {
                return [.. heard];
            }
        }
    }

    private async Task<(AppUser User, ClaimsPrincipal Principal)> SignInWithPrincipalAsync(string email)
    {
        var user = await SignInAsync(email);
        return (user, Principal(user.Id));
    }

    private async Task<Guid> SubmitAsync(ClaimsPrincipal user, string prompt, Guid? galleryId = null)
    {
        var request = new GenerationSettings { Model = "t2istudio-tiny", Prompt = prompt, Steps = 20, Width = 64, Height = 64, SaveTo = galleryId };
        var result = await Services.GetRequiredService<GenerationService>().SubmitAsync(user, request.ToJob());
        Assert.True(result.Succeeded, string.Join(" ", result.Errors));
        return result.JobId!.Value;
    }

    private void Publish(StudioEvent studioEvent) => Services.GetRequiredService<StudioNotifier>().Publish(studioEvent);

    private static string Status(IRenderedComponent<JobQueuePanel> panel) => panel.Find("[data-testid=job-status]").TextContent.Trim();
}
