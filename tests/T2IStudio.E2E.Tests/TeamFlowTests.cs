using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace T2IStudio.E2E.Tests;

/// <summary>Two people in two browser contexts: a team is made, a member added, and removed while they look.</summary>
public sealed class TeamFlowTests(StudioServer server) : IClassFixture<StudioServer>
{
    [Fact]
    public async Task A_adds_B_as_viewer_B_sees_the_team_and_when_A_removes_B_the_open_page_closes_with_a_message()
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

        await a.GetByLabel("Member email").FillAsync("bob@example.test");
        await a.GetByLabel("Role", new() { Exact = true }).ClickAsync();
        await a.GetByRole(AriaRole.Option, new() { Name = "Viewer" }).ClickAsync();
        await a.GetByRole(AriaRole.Button, new() { Name = "Add member" }).ClickAsync();
        var bobRow = a.Locator("tr[data-member='bob@example.test']");
        await Assertions.Expect(bobRow).ToContainTextAsync("Viewer");
        await StudioPages.ScreenshotAsync(a, "team-owner");

        // B finds the team in their list and opens it: a viewer sees the members but no management.
        await b.GotoAsync("/teams");
        await StudioPages.WaitForInteractiveAsync(b);
        await b.GetByRole(AriaRole.Link, new() { Name = "Poster crew" }).ClickAsync();
        await Assertions.Expect(b.GetByText("You are a viewer of this team.")).ToBeVisibleAsync();
        await Assertions.Expect(b.GetByRole(AriaRole.Button, new() { Name = "Add member" })).ToHaveCountAsync(0);
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
}
