using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace T2IStudio.E2E.Tests;

/// <summary>Two people in two browser contexts: a team is made, a member invited, accepts, and is removed while they look.</summary>
public sealed class TeamFlowTests(StudioServer server) : IClassFixture<StudioServer>
{
    [Fact]
    public async Task A_invites_B_as_viewer_B_accepts_live_and_sees_the_team_and_when_A_removes_B_the_open_page_closes_with_a_message()
    {
        var a = await server.NewPageAsync();
        var b = await server.NewPageAsync();
        await StudioPages.RegisterAsync(a, "ada@example.test");
        await StudioPages.RegisterAsync(b, "bob@example.test");

        await a.GotoAsync("/teams");
        await StudioPages.WaitForInteractiveAsync(a);
        await a.GetByRole(AriaRole.Button, new() { Name = "New team" }).ClickAsync();
        await a.GetByLabel("Team name").FillAsync("Poster crew");
        await a.GetByRole(AriaRole.Button, new() { Name = "Create team" }).ClickAsync();
        await Assertions.Expect(a.GetByRole(AriaRole.Heading, new() { Name = "Poster crew", Level = 1 })).ToBeVisibleAsync();
        var teamUrl = a.Url;

        // B is already looking at their (empty) team list.
        await b.GotoAsync("/teams");
        await StudioPages.WaitForInteractiveAsync(b);
        await Assertions.Expect(b.GetByText("You're not on a team yet")).ToBeVisibleAsync();

        await a.GetByLabel("Member email").FillAsync("bob@example.test");
        await a.GetByLabel("Role", new() { Exact = true }).ClickAsync();
        await a.GetByRole(AriaRole.Option, new() { Name = "Viewer" }).ClickAsync();
        await a.GetByRole(AriaRole.Button, new() { Name = "Invite", Exact = true }).ClickAsync();
        await Assertions.Expect(a.GetByText("Invitation sent to bob@example.test. They join when they accept it.")).ToBeVisibleAsync();
        var bobInvitation = a.Locator("tr[data-invitation='bob@example.test']");
        await Assertions.Expect(bobInvitation).ToContainTextAsync("Viewer");
        var bobRow = a.Locator("tr[data-member='bob@example.test']");
        await Assertions.Expect(bobRow).ToHaveCountAsync(0);

        // The invitation appears in B's list without a reload; until B accepts, the team's address is a 404 for B.
        var accept = b.GetByRole(AriaRole.Button, new() { Name = "Accept the invitation to Poster crew" });
        await Assertions.Expect(accept).ToBeVisibleAsync();
        await Assertions.Expect(b.GetByText("ada invited you as a viewer.")).ToBeVisibleAsync();
        Assert.Equal(404, (await b.Context.APIRequest.GetAsync(teamUrl)).Status);
        await StudioPages.ScreenshotAsync(b, "team-invitation");

        // B accepts: the team joins B's list, and A's open page shows B as a member, both live.
        await accept.ClickAsync();
        await Assertions.Expect(b.GetByText("You joined Poster crew as a viewer.")).ToBeVisibleAsync();
        await Assertions.Expect(accept).ToHaveCountAsync(0);
        await Assertions.Expect(bobRow).ToContainTextAsync("Viewer");
        await Assertions.Expect(bobInvitation).ToHaveCountAsync(0);
        await StudioPages.ScreenshotAsync(a, "team-owner");

        // B opens it: a viewer sees the members but no management.
        await b.GetByRole(AriaRole.Link, new() { Name = "Poster crew" }).ClickAsync();
        await Assertions.Expect(b.GetByText("You are a viewer of this team.")).ToBeVisibleAsync();
        await Assertions.Expect(b.GetByRole(AriaRole.Button, new() { Name = "Invite", Exact = true })).ToHaveCountAsync(0);
        await Assertions.Expect(b.GetByRole(AriaRole.Button, new() { Name = "Remove" })).ToHaveCountAsync(0);
        await StudioPages.ScreenshotAsync(b, "team-viewer");

        // A removes B; B's open page closes with a message, without a reload.
        await bobRow.GetByRole(AriaRole.Button, new() { Name = "Remove" }).ClickAsync();
        await Assertions.Expect(bobRow).ToHaveCountAsync(0);
        await Assertions.Expect(b.GetByText("You are no longer a member of Poster crew.")).ToBeVisibleAsync();
        await Assertions.Expect(b).ToHaveURLAsync(new Regex("/teams$"));
        await Assertions.Expect(b.GetByText("You're not on a team yet")).ToBeVisibleAsync();

        // And the team's address is now a 404 for B.
        var response = await b.GotoAsync(teamUrl);
        Assert.Equal(404, response!.Status);
    }

    [Fact]
    public async Task A_generates_into_the_team_gallery_and_B_watching_it_sees_the_progress_and_the_images_arrive_then_loses_it_when_removed()
    {
        var a = await server.NewPageAsync();
        var b = await server.NewPageAsync();
        await StudioPages.RegisterAsync(a, "ana@example.test");
        await StudioPages.RegisterAsync(b, "ben@example.test");

        // A: a team with B as viewer, and a gallery owned by the team.
        await a.GotoAsync("/teams");
        await StudioPages.WaitForInteractiveAsync(a);
        await a.GetByRole(AriaRole.Button, new() { Name = "New team" }).ClickAsync();
        await a.GetByLabel("Team name").FillAsync("Studio");
        await a.GetByRole(AriaRole.Button, new() { Name = "Create team" }).ClickAsync();
        await a.GetByLabel("Member email").FillAsync("ben@example.test");
        await a.GetByRole(AriaRole.Button, new() { Name = "Invite", Exact = true }).ClickAsync();
        await Assertions.Expect(a.Locator("tr[data-invitation='ben@example.test']")).ToContainTextAsync("Viewer");
        await b.GotoAsync("/teams");
        await StudioPages.WaitForInteractiveAsync(b);
        await b.GetByRole(AriaRole.Button, new() { Name = "Accept the invitation to Studio" }).ClickAsync();
        await Assertions.Expect(b.GetByRole(AriaRole.Link, new() { Name = "Studio", Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(a.Locator("tr[data-member='ben@example.test']")).ToContainTextAsync("Viewer");
        var teamUrl = a.Url;
        await a.GotoAsync("/gallery");
        await StudioPages.WaitForInteractiveAsync(a);
        await a.GetByRole(AriaRole.Button, new() { Name = "New gallery" }).ClickAsync();
        await a.GetByLabel("Gallery name").FillAsync("Moodboard");
        await a.GetByLabel("Owned by").ClickAsync();
        await a.GetByRole(AriaRole.Option, new() { Name = "Studio" }).ClickAsync();
        await a.GetByRole(AriaRole.Button, new() { Name = "Create gallery" }).ClickAsync();
        await Assertions.Expect(a.GetByText("This gallery is empty")).ToBeVisibleAsync();

        // B opens the team gallery and keeps looking.
        await b.GotoAsync("/gallery");
        await StudioPages.WaitForInteractiveAsync(b);
        await b.GetByLabel("Gallery", new() { Exact = true }).ClickAsync();
        await b.GetByRole(AriaRole.Option, new() { Name = "Moodboard (Studio)" }).ClickAsync();
        await Assertions.Expect(b.GetByText("This gallery is empty")).ToBeVisibleAsync();

        // Presence: each sees the other's avatar, named, while both look at the gallery.
        await Assertions.Expect(a.GetByRole(AriaRole.Img, new() { Name = "ben" })).ToBeVisibleAsync();
        await Assertions.Expect(b.GetByRole(AriaRole.Img, new() { Name = "ana" })).ToBeVisibleAsync();
        await StudioPages.ScreenshotAsync(a, "team-gallery-presence");

        // A generates straight into it (and B sees A leave the gallery).
        await a.GotoAsync("/");
        await StudioPages.WaitForInteractiveAsync(a);
        await Assertions.Expect(b.GetByRole(AriaRole.Img, new() { Name = "ana" })).ToHaveCountAsync(0);
        await a.GetByLabel("Prompt", new() { Exact = true }).FillAsync("a team poster");
        var steps = a.GetByLabel("Steps", new() { Exact = true });
        await steps.FillAsync("150");
        await steps.PressAsync("Tab");
        var batch = a.GetByLabel("Batch count", new() { Exact = true });
        await batch.FillAsync("2");
        await batch.PressAsync("Tab");
        await a.GetByLabel("Save to").ClickAsync();
        await a.GetByRole(AriaRole.Option, new() { Name = "Moodboard (Studio)" }).ClickAsync();
        await a.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true }).ClickAsync();

        // B sees it run, then the images, without reloading.
        var inProgress = b.GetByRole(AriaRole.List, new() { Name = "In progress" });
        await Assertions.Expect(inProgress.GetByRole(AriaRole.Progressbar)).ToBeVisibleAsync();
        await StudioPages.ScreenshotAsync(b, "team-gallery-progress");
        var tiles = b.GetByRole(AriaRole.Button, new() { Name = "Open image: a team poster" });
        await Assertions.Expect(tiles).ToHaveCountAsync(2, new() { Timeout = 120_000 });
        await Assertions.Expect(inProgress).ToHaveCountAsync(0);
        await StudioPages.ScreenshotAsync(b, "team-gallery");

        // A viewer can look and download, but not delete.
        await tiles.First.ClickAsync();
        var viewer = b.GetByRole(AriaRole.Dialog, new() { Name = "Image viewer" });
        await Assertions.Expect(viewer.GetByRole(AriaRole.Link, new() { Name = "Download" })).ToBeVisibleAsync();
        await Assertions.Expect(viewer.GetByRole(AriaRole.Button, new() { Name = "Delete" })).ToHaveCountAsync(0);
        await Assertions.Expect(viewer.GetByRole(AriaRole.Button, new() { Name = "Remove from gallery" })).ToHaveCountAsync(0);
        await b.Keyboard.PressAsync("Escape");

        // A removes B: B's gallery view closes with a message.
        await a.GotoAsync(teamUrl);
        await StudioPages.WaitForInteractiveAsync(a);
        await a.Locator("tr[data-member='ben@example.test']").GetByRole(AriaRole.Button, new() { Name = "Remove" }).ClickAsync();
        await Assertions.Expect(b.GetByText("You are no longer a member of Studio; its gallery is closed.")).ToBeVisibleAsync();
        await Assertions.Expect(b.GetByRole(AriaRole.Button, new() { Name = "Open image: a team poster" })).ToHaveCountAsync(0);
    }
}
