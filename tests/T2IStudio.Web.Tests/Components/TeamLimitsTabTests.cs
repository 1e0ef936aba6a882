using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Extensions;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Components.Teams;
using T2IStudio.Web.Components.Create;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Preferences;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Infrastructure;
using LimitsService = T2IStudio.Web.Teams.TeamLimits;
using TeamLimitsTab = T2IStudio.Web.Components.Teams.TeamLimits;

namespace T2IStudio.Web.Tests.Components;

/// <summary>The team page's "Models and budget" tab, and what Create shows when a team's budget refuses a job.</summary>
public sealed class TeamLimitsTabTests : StudioComponentTestBase
{
    [Fact]
    public async Task An_owner_sees_todays_use_and_the_controls_and_saving_a_new_budget_updates_the_team_and_the_use()
    {
        var owner = await SignInAsync("tab-owner@example.test");
        var (teamId, _) = await CreateTeamAsync(owner, dailyImages: 10);
        await AddTeamJobAsync(owner, teamId, batch: 3);

        var tab = Render<TeamLimitsTab>(p => p.Add(c => c.TeamId, teamId).Add(c => c.MyRole, TeamRole.Owner));

        tab.WaitForAssertion(() => Assert.Equal("3 of 10 images today", tab.Find("[data-testid=team-usage]").TextContent.Trim()));
        Assert.NotNull(tab.Find("[role=progressbar][aria-label='Images used today']"));
        Assert.Contains(tab.FindAll("label"), l => l.TextContent.Trim() == "Allowed models");
        Assert.Contains("0 = no limit", tab.Markup, StringComparison.Ordinal);
        Assert.Empty(tab.FindAll("[data-testid=daily-images-text]"));

        await tab.InvokeAsync(() => tab.Find($"#{LabelTarget(tab, "Daily images")}").Change("20"));
        await tab.InvokeAsync(() => tab.FindAll("button").Single(b => b.TextContent.Trim() == "Save limits").Click());

        tab.WaitForAssertion(() => Assert.Equal("3 of 20 images today", tab.Find("[data-testid=team-usage]").TextContent.Trim()));
        await using var db = CreateDb();
        var team = await db.Teams.AsNoTracking().SingleAsync(t => t.Id == teamId);
        Assert.Equal(20, team.DailyImageLimit);
        // The models were left at "Use the server default".
        Assert.Null(team.AllowedModels);

        // Picking a model drops "Use the server default"; the team then allows that model only.
        var models = tab.FindComponents<MudSelect<string>>().Single(s => s.Instance.Label == "Allowed models");
        Assert.Equal([AllowedModelsChoice.ServerDefault], models.Instance.GetState(x => x.SelectedValues));
        await tab.InvokeAsync(() => models.Instance.SelectedValuesChanged.InvokeAsync([AllowedModelsChoice.ServerDefault, "t2istudio-tiny"]));
        await tab.InvokeAsync(() => tab.FindAll("button").Single(b => b.TextContent.Trim() == "Save limits").Click());

        // The save reloads and re-renders the tab: each render checks the row again.
        tab.WaitForAssertion(() =>
        {
            using var check = CreateDb();
            Assert.Equal(["t2istudio-tiny"], check.Teams.AsNoTracking().Single(t => t.Id == teamId).AllowedModels);
        });
        Assert.Equal(["t2istudio-tiny"], models.Instance.GetState(x => x.SelectedValues));
    }

    [Fact]
    public async Task A_viewer_reads_the_limits_without_controls_and_sees_the_owners_change_live()
    {
        var viewer = await SignInAsync("tab-viewer@example.test");
        var owner = await AddUserAsync("tab-owner2@example.test");
        var (teamId, _) = await CreateTeamAsync(owner, dailyImages: 10, member: viewer);
        await AddTeamJobAsync(owner, teamId, batch: 3);

        var tab = Render<TeamLimitsTab>(p => p.Add(c => c.TeamId, teamId).Add(c => c.MyRole, TeamRole.Viewer));

        tab.WaitForAssertion(() => Assert.Equal("3 of 10 images today", tab.Find("[data-testid=team-usage]").TextContent.Trim()));
        Assert.Equal("All models (server default)", tab.Find("[data-testid=allowed-models-text]").TextContent.Trim());
        Assert.Equal("10 images a day", tab.Find("[data-testid=daily-images-text]").TextContent.Trim());
        Assert.Contains("Only the team's owners can change its limits.", tab.Markup, StringComparison.Ordinal);
        Assert.DoesNotContain(tab.FindAll("button"), b => b.TextContent.Trim() == "Save limits");
        Assert.DoesNotContain(tab.FindAll("label"), l => l.TextContent.Trim() is "Allowed models" or "Daily images");

        // The owner lifts the limit: the open tab follows.
        Assert.True((await Services.GetRequiredService<LimitsService>().SetAsync(Principal(owner.Id), teamId, null, 0)).Succeeded);

        tab.WaitForAssertion(() => Assert.Equal("No daily limit", tab.Find("[data-testid=team-usage]").TextContent.Trim()));
        Assert.Equal("3 images today.", tab.Find("[data-testid=team-usage-count]").TextContent.Trim());
        Assert.Empty(tab.FindAll("[role=progressbar]"));
    }

    [Fact]
    public async Task Past_the_team_budget_Generate_shows_the_message_keeps_the_prompt_and_queues_nothing()
    {
        var owner = await SignInAsync("create-budget@example.test");
        var (teamId, galleryId) = await CreateTeamAsync(owner, dailyImages: 1);
        await AddTeamJobAsync(owner, teamId, batch: 1, galleryId);
        await Services.GetRequiredService<UserPreferences>().SetCreateSettingsAsync(owner.Id, new CreateSettings { SaveTo = galleryId });
        var page = Render<CreatePage>();
        page.WaitForAssertion(() => page.Find("textarea"));

        await page.InvokeAsync(() => page.FindAll("textarea")[0].Input("a poster for the client"));
        await page.InvokeAsync(() => page.FindAll("button").Single(b => b.TextContent.Trim() == "Generate").Click());

        const string Message = "Posters has used 1 of its 1 images today; this job makes 1. The budget resets at 00:00 UTC.";
        page.WaitForAssertion(() => Assert.Contains(Message, page.Find("[data-testid=validation-errors]").TextContent, StringComparison.Ordinal));
        Assert.Equal("a poster for the client", page.FindAll("textarea")[0].GetAttribute("value") ?? page.FindAll("textarea")[0].TextContent);
        await using var db = CreateDb();
        Assert.Equal(1, await db.Jobs.CountAsync());
    }

    private async Task<(Guid TeamId, Guid GalleryId)> CreateTeamAsync(AppUser owner, int dailyImages, AppUser? member = null)
    {
        var ownerP = Principal(owner.Id);
        var teams = Services.GetRequiredService<TeamService>();
        var teamId = (await teams.CreateAsync(ownerP, "Posters")).Id!.Value;
        if (member is not null)
        {
            var invited = await teams.InviteAsync(ownerP, teamId, member.Email, TeamRole.Viewer);
            Assert.True(invited.Succeeded, string.Join(" ", invited.Errors));
            var invitation = Assert.Single(await teams.MyInvitationsAsync(Principal(member.Id)));
            Assert.True((await teams.AcceptInvitationAsync(Principal(member.Id), invitation.Id)).Succeeded);
        }
        var galleryId = (await Services.GetRequiredService<GalleryService>().CreateAsync(ownerP, "Client work", teamId)).Id!.Value;
        Assert.True((await Services.GetRequiredService<LimitsService>().SetAsync(ownerP, teamId, null, dailyImages)).Succeeded);
        return (teamId, galleryId);
    }

    private async Task AddTeamJobAsync(AppUser owner, Guid teamId, int batch, Guid? galleryId = null)
    {
        await using var db = CreateDb();
        var now = DateTimeOffset.UtcNow;
        db.Jobs.Add(new Job
        {
            Id = Guid.NewGuid(), OwnerId = owner.Id, Status = JobStatus.Completed, Model = "t2istudio-tiny", Prompt = "earlier", RequestJson = "{}",
            BatchSize = batch, TotalSteps = 2, Width = 64, Height = 64, CreatedAt = now, FinishedAt = now, GalleryId = galleryId, TeamId = teamId,
        });
        await db.SaveChangesAsync();
    }

    private static string LabelTarget(IRenderedComponent<TeamLimitsTab> tab, string label) =>
        tab.FindAll("label").First(l => l.TextContent.Trim() == label).GetAttribute("for")!;
}

/// <summary>The "Allowed models" selection: "All models" and "Use the server default" stand alone.</summary>
public sealed class AllowedModelsChoiceTests
{
    [Fact]
    public void A_stand_alone_choice_just_picked_clears_the_models_and_a_model_just_picked_clears_the_stand_alone_choices()
    {
        Assert.Equal([AllowedModelsChoice.AllModels], AllowedModelsChoice.Normalize(["a", "b"], ["a", "b", AllowedModelsChoice.AllModels]));
        Assert.Equal(["b"], AllowedModelsChoice.Normalize([AllowedModelsChoice.ServerDefault], [AllowedModelsChoice.ServerDefault, "b"]));
        Assert.Equal(["a"], AllowedModelsChoice.Normalize(["a", "b"], ["a"]));

        Assert.True(AllowedModelsChoice.TryToList([AllowedModelsChoice.ServerDefault], out var followsDefault));
        Assert.Null(followsDefault);
        Assert.True(AllowedModelsChoice.TryToList([AllowedModelsChoice.AllModels], out var all));
        Assert.Empty(all!);
        Assert.True(AllowedModelsChoice.TryToList(["a", "b"], out var some));
        Assert.Equal(["a", "b"], some);
        Assert.False(AllowedModelsChoice.TryToList([], out _));

        Assert.Equal([AllowedModelsChoice.ServerDefault], AllowedModelsChoice.From(null, offersServerDefault: true));
        Assert.Equal([AllowedModelsChoice.AllModels], AllowedModelsChoice.From(null, offersServerDefault: false));
        Assert.Equal([AllowedModelsChoice.AllModels], AllowedModelsChoice.From([], offersServerDefault: true));
    }
}
