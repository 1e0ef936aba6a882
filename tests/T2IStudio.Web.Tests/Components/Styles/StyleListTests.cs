using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Components.Styles;
using T2IStudio.Web.Components.Teams;
using T2IStudio.Web.Styles;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components.Styles;

/// <summary>Managing styles: an editor creates, edits and deletes (after confirming) a team's styles; a viewer only reads; lists refresh live.</summary>
public sealed class StyleListTests : StudioComponentTestBase
{
    [Fact]
    public async Task An_editor_creates_edits_and_deletes_a_team_style_through_the_editor_and_the_list_refreshes_live()
    {
        var editor = await SignInAsync("list-editor@example.test");
        var owner = await AddUserAsync("list-owner@example.test");
        var teams = Services.GetRequiredService<TeamService>();
        var teamId = (await teams.CreateAsync(Principal(owner.Id), "Atelier")).Id!.Value;
        await teams.JoinByInvitationAsync(Principal(owner.Id), teamId, editor, TeamRole.Editor);
        var dialogs = Render<MudDialogProvider>();
        var list = Render<TeamStyles>(p => p.Add(t => t.TeamId, teamId).Add(t => t.MyRole, TeamRole.Editor));
        list.WaitForAssertion(() => Assert.Contains("No styles yet", list.Markup, StringComparison.Ordinal));

        await list.InvokeAsync(() => Button(list, "New style").Click());
        await list.InvokeAsync(() => Field(list, "Style name").Input("Blueprint"));
        await list.InvokeAsync(() => Field(list, "Style prompt").Input("{prompt}, blueprint"));
        await list.InvokeAsync(() => Field(list, "Negative prompt").Input("colour"));
        await list.InvokeAsync(() => Field(list, "Steps").Change("12"));
        await list.InvokeAsync(() => Button(list, "Save style").Click());

        list.WaitForAssertion(() => Assert.Single(list.FindAll("tr[data-style='Blueprint']")));
        await using (var db = CreateDb())
        {
            var style = await db.Styles.SingleAsync();
            Assert.Equal(("Blueprint", "{prompt}, blueprint", "colour", (int?)12, (Guid?)teamId, editor.Id), (style.Name, style.Prompt, style.NegativePrompt, style.Steps, style.TeamId, style.CreatedById));
        }

        // Someone else's change reaches the open list.
        var created = await Services.GetRequiredService<StyleLibrary>().CreateAsync(Principal(owner.Id), teamId, new StyleDraft { Name = "Atlas", Prompt = "map of {prompt}" });
        Assert.True(created.Succeeded);
        list.WaitForAssertion(() => Assert.Equal(["Atlas", "Blueprint"], list.FindAll("tr[data-style]").Select(r => r.GetAttribute("data-style"))));

        await list.InvokeAsync(() => list.Find("button[aria-label='Edit style Blueprint']").Click());
        await list.InvokeAsync(() => Field(list, "Style name").Input("Blueprint II"));
        await list.InvokeAsync(() => Button(list, "Save style").Click());
        list.WaitForAssertion(() => Assert.Single(list.FindAll("tr[data-style='Blueprint II']")));

        await list.InvokeAsync(() => list.Find("button[aria-label='Delete style Atlas']").Click());
        dialogs.WaitForAssertion(() => Assert.Contains("Delete the style \"Atlas\"?", dialogs.Markup, StringComparison.Ordinal));
        await dialogs.InvokeAsync(() => dialogs.FindAll("button").Single(b => b.TextContent.Trim() == "Delete").Click());
        list.WaitForAssertion(() => Assert.Equal(["Blueprint II"], list.FindAll("tr[data-style]").Select(r => r.GetAttribute("data-style"))));
        await using var after = CreateDb();
        Assert.Equal(["Blueprint II"], await after.Styles.Select(s => s.Name).ToListAsync());
    }

    [Fact]
    public async Task A_viewer_reads_the_team_styles_without_controls_and_the_styles_page_lists_their_own_and_the_teams()
    {
        var viewer = await SignInAsync("list-viewer@example.test");
        var owner = await AddUserAsync("list-owner2@example.test");
        var teams = Services.GetRequiredService<TeamService>();
        var styles = Services.GetRequiredService<StyleLibrary>();
        var teamId = (await teams.CreateAsync(Principal(owner.Id), "Crew")).Id!.Value;
        await teams.JoinByInvitationAsync(Principal(owner.Id), teamId, viewer, TeamRole.Viewer);
        Assert.True((await styles.CreateAsync(Principal(owner.Id), teamId, new StyleDraft { Name = "Team look", Prompt = "cinematic" })).Succeeded);
        Assert.True((await styles.CreateAsync(Principal(viewer.Id), null, new StyleDraft { Name = "My look", Prompt = "pastel" })).Succeeded);

        var list = Render<TeamStyles>(p => p.Add(t => t.TeamId, teamId).Add(t => t.MyRole, TeamRole.Viewer));
        list.WaitForAssertion(() => Assert.Single(list.FindAll("tr[data-style='Team look']")));
        Assert.Empty(list.FindAll("button"));
        Assert.Single(list.FindAll("[data-testid=styles-read-only]"));

        var page = Render<StylesPage>();
        page.WaitForAssertion(() =>
        {
            Assert.Single(page.FindAll("tr[data-style='My look']"));
            Assert.Single(page.FindAll("tr[data-style='Team look']"));
        });
        Assert.Contains("Team: Crew", page.Markup, StringComparison.Ordinal);
        // Their own are theirs to change; the team's only on the team page.
        Assert.Single(page.FindAll("button[aria-label='Edit style My look']"));
        Assert.Empty(page.FindAll("button[aria-label='Edit style Team look']"));
        Assert.Single(page.FindAll("button"), b => b.TextContent.Trim() == "New style");
    }

    private static AngleSharp.Dom.IElement Button(IRenderedComponent<TeamStyles> list, string text) =>
        list.FindAll("button").Single(b => b.TextContent.Trim() == text);

    private static AngleSharp.Dom.IElement Field(IRenderedComponent<TeamStyles> list, string label)
    {
        var id = list.FindAll("label").First(l => l.TextContent.Trim() == label).GetAttribute("for");
        return list.FindAll("input, textarea").Single(i => i.Id == id);
    }
}
