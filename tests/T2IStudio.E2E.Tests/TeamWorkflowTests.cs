using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace T2IStudio.E2E.Tests;

/// <summary>
/// A team producing images for a client, in Chromium: review and approval seen live by two people, the activity
/// feed, the author's notification and the approved export; a team style applied on Create; the daily budget.
/// </summary>
public sealed class TeamWorkflowTests(StudioServer server) : IClassFixture<StudioServer>
{
    [Fact]
    public async Task An_editor_generates_into_a_reviewed_gallery_the_owner_approves_with_the_keyboard_and_the_editors_open_pages_follow_without_reloading()
    {
        var owner = await server.NewPageAsync();
        var editor = await server.NewPageAsync();
        await StudioPages.RegisterAsync(owner, "ana@review.test");
        await StudioPages.RegisterAsync(editor, "ben@review.test");
        var teamUrl = await TeamWithMemberAsync(owner, editor, "Client work", "ben@review.test", "Editor");

        // The owner makes a team gallery and switches review on.
        await NewTeamGalleryAsync(owner, "Posters", "Client work");
        await owner.GetByLabel("Require review").CheckAsync();
        await Assertions.Expect(owner.GetByLabel("Require review")).ToBeCheckedAsync();

        // The editor generates straight into it.
        await editor.GotoAsync("/");
        await StudioPages.WaitForInteractiveAsync(editor);
        await editor.GetByLabel("Prompt", new() { Exact = true }).FillAsync("a poster for review");
        await SetNumberAsync(editor, "Steps", "4");
        await editor.GetByLabel("Save to").ClickAsync();
        await editor.GetByRole(AriaRole.Option, new() { Name = "Posters (Client work)" }).ClickAsync();
        await editor.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true }).ClickAsync();
        var job = editor.GetByRole(AriaRole.Listitem, new() { Name = "Job: a poster for review" });
        await Assertions.Expect(job.GetByTestId("job-status")).ToHaveTextAsync(new Regex("^Done · 1 image"), new() { Timeout = 120_000 });

        // The editor opens the gallery and the image: it needs review.
        await OpenGalleryAsync(editor, "Posters (Client work)");
        var editorTile = editor.GetByRole(AriaRole.Button, new() { Name = "Open image: a poster for review (Needs review)" });
        await editorTile.ClickAsync();
        var editorViewer = editor.GetByRole(AriaRole.Dialog, new() { Name = "Image viewer" });
        await Assertions.Expect(editorViewer.GetByTestId("review-state")).ToHaveTextAsync("Needs review");

        // And keeps the team's activity open in a second tab.
        var activity = await server.NewPageAsync();
        await StudioPages.SignInAsync(activity, "ben@review.test");
        await activity.GotoAsync(teamUrl + "?tab=activity");
        await StudioPages.WaitForInteractiveAsync(activity);
        var feed = activity.GetByRole(AriaRole.List, new() { Name = "Team activity" });
        await Assertions.Expect(feed.GetByRole(AriaRole.Listitem).First).ToContainTextAsync("ben generated 1 image into Posters");

        // The owner opens the same image and approves it with the A key.
        await OpenGalleryAsync(owner, "Posters (Client work)");
        await owner.GetByRole(AriaRole.Button, new() { Name = "Open image: a poster for review (Needs review)" }).ClickAsync();
        var ownerViewer = owner.GetByRole(AriaRole.Dialog, new() { Name = "Image viewer" });
        await Assertions.Expect(ownerViewer.GetByTestId("review-state")).ToHaveTextAsync("Needs review");
        // The viewer takes focus once the image is in; keys pressed from then on are the viewer's.
        await Assertions.Expect(ownerViewer.GetByRole(AriaRole.Button, new() { Name = "Approve" })).ToBeVisibleAsync();
        await Assertions.Expect(owner.Locator(".studio-lightbox-keys")).ToBeFocusedAsync();
        await owner.Keyboard.PressAsync("a");
        await Assertions.Expect(ownerViewer.GetByTestId("review-state")).ToHaveTextAsync("Approved");
        await Assertions.Expect(ownerViewer.GetByRole(AriaRole.Button, new() { Name = "Approve" })).ToHaveAttributeAsync("aria-pressed", "true");
        await StudioPages.ScreenshotAsync(owner, "review-lightbox");

        // Without a reload, the editor's open viewer shows the state and the entry among the comments, the tile its
        // badge, the activity tab the review, and the bell a notification.
        await Assertions.Expect(editorViewer.GetByTestId("review-state")).ToHaveTextAsync("Approved");
        await Assertions.Expect(editorViewer.GetByRole(AriaRole.List, new() { Name = "Comments" })).ToContainTextAsync("ana approved this");
        await Assertions.Expect(feed.GetByRole(AriaRole.Listitem).First).ToContainTextAsync("ana approved an image in Posters");
        await Assertions.Expect(editor.Locator("[aria-label='1 unread notification']")).ToBeAttachedAsync();
        await StudioPages.ScreenshotAsync(editor, "review-seen-by-editor");
        await StudioPages.ScreenshotAsync(activity, "team-activity");
        await editor.Keyboard.PressAsync("Escape");
        await Assertions.Expect(editor.GetByRole(AriaRole.Button, new() { Name = "Open image: a poster for review (Approved)" })).ToBeVisibleAsync();

        // The gallery filters by review state, and "All" brings everything back.
        await editor.GetByLabel("Review state").ClickAsync();
        await editor.GetByRole(AriaRole.Option, new() { Name = "Changes requested" }).ClickAsync();
        await Assertions.Expect(editor.GetByText("Nothing matches")).ToBeVisibleAsync();
        await editor.GetByLabel("Review state").ClickAsync();
        await editor.GetByRole(AriaRole.Option, new() { Name = "All", Exact = true }).ClickAsync();
        await Assertions.Expect(editor.GetByTestId("gallery-count")).ToHaveTextAsync("1 image");

        // The bell lists it and links to the image.
        await editor.GetByRole(AriaRole.Button, new() { Name = "Notifications" }).ClickAsync();
        await Assertions.Expect(editor.Locator(".studio-notifications-popover").GetByText("ana approved your image in Posters")).ToBeVisibleAsync();
        await StudioPages.ScreenshotAsync(editor, "notifications");

        // "Download approved" holds exactly that image and a CSV row with its prompt.
        await owner.Keyboard.PressAsync("Escape");
        await Assertions.Expect(ownerViewer).ToHaveCountAsync(0);
        var download = await owner.RunAndWaitForDownloadAsync(() => owner.GetByRole(AriaRole.Link, new() { Name = "Download approved" }).ClickAsync());
        using var zip = new ZipArchive(File.OpenRead(await download.PathAsync()));
        Assert.Equal(2, zip.Entries.Count);
        Assert.Single(zip.Entries, e => e.FullName.EndsWith(".png", StringComparison.Ordinal));
        using var csv = new StreamReader(zip.GetEntry("parameters.csv")!.Open(), Encoding.UTF8);
        var rows = (await csv.ReadToEndAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, rows.Length);
        Assert.Contains("a poster for review", rows[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_team_style_applied_on_Create_expands_the_prompt_into_the_PNG_and_the_daily_budget_refuses_a_job_past_it_keeping_the_prompt()
    {
        var owner = await server.NewPageAsync();
        await StudioPages.RegisterAsync(owner, "ana@style.test");
        await owner.GotoAsync("/teams");
        await StudioPages.WaitForInteractiveAsync(owner);
        await owner.GetByRole(AriaRole.Button, new() { Name = "New team" }).ClickAsync();
        await owner.GetByLabel("Team name").FillAsync("Brand");
        await owner.GetByRole(AriaRole.Button, new() { Name = "Create team" }).ClickAsync();
        await Assertions.Expect(owner.GetByRole(AriaRole.Heading, new() { Name = "Brand", Level = 1 })).ToBeVisibleAsync();

        // A team style, made on the team page.
        await owner.GetByRole(AriaRole.Tab, new() { Name = "Styles" }).ClickAsync();
        await owner.GetByRole(AriaRole.Button, new() { Name = "New style" }).ClickAsync();
        await owner.GetByLabel("Style name").FillAsync("Noir");
        await owner.GetByLabel("Style prompt").FillAsync("film noir still of {prompt}, high contrast");
        await owner.GetByLabel("Negative prompt").FillAsync("colour");
        await owner.GetByRole(AriaRole.Button, new() { Name = "Save style" }).ClickAsync();
        await Assertions.Expect(owner.GetByText("film noir still of {prompt}, high contrast")).ToBeVisibleAsync();
        await StudioPages.ScreenshotAsync(owner, "team-styles");

        // A budget of one image a day.
        await owner.GetByRole(AriaRole.Tab, new() { Name = "Models and budget" }).ClickAsync();
        await owner.GetByRole(AriaRole.Checkbox, new() { NameRegex = new Regex("^Use the server default budget") }).UncheckAsync();
        await SetNumberAsync(owner, "Daily images", "1");
        await owner.GetByRole(AriaRole.Button, new() { Name = "Save limits" }).ClickAsync();
        await Assertions.Expect(owner.GetByText("0 of 1 images today")).ToBeVisibleAsync();
        await StudioPages.ScreenshotAsync(owner, "team-limits");

        await NewTeamGalleryAsync(owner, "Campaign", "Brand");

        // Create: the style shows where the prompt goes.
        await owner.GotoAsync("/");
        await StudioPages.WaitForInteractiveAsync(owner);
        var prompt = owner.GetByLabel("Prompt", new() { Exact = true });
        await prompt.FillAsync("a lighthouse");
        await owner.GetByLabel("Style", new() { Exact = true }).ClickAsync();
        await owner.GetByRole(AriaRole.Option, new() { Name = "Noir" }).ClickAsync();
        await Assertions.Expect(owner.GetByText("Expanded prompt: film noir still of a lighthouse, high contrast")).ToBeVisibleAsync();
        await SetNumberAsync(owner, "Steps", "4");
        await owner.GetByLabel("Save to").ClickAsync();
        await owner.GetByRole(AriaRole.Option, new() { Name = "Campaign (Brand)" }).ClickAsync();
        await StudioPages.ScreenshotAsync(owner, "create-style");

        // Two images would pass the budget: refused, nothing queued, the prompt kept.
        await SetNumberAsync(owner, "Batch count", "2");
        await owner.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true }).ClickAsync();
        await Assertions.Expect(owner.GetByTestId("validation-errors")).ToContainTextAsync("Brand has used 0 of its 1 images today");
        await Assertions.Expect(prompt).ToHaveValueAsync("a lighthouse");
        await Assertions.Expect(owner.GetByRole(AriaRole.Listitem, new() { NameRegex = new Regex("^Job: ") })).ToHaveCountAsync(0);

        // One fits; its PNG carries the expanded prompt and the style's name.
        await SetNumberAsync(owner, "Batch count", "1");
        await owner.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true }).ClickAsync();
        var job = owner.GetByRole(AriaRole.Listitem, new() { Name = "Job: film noir still of a lighthouse, high contrast" });
        await Assertions.Expect(job.GetByTestId("job-status")).ToHaveTextAsync(new Regex("^Done · 1 image"), new() { Timeout = 120_000 });
        await job.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^Open image 1 of 1") }).ClickAsync();
        var viewer = owner.GetByRole(AriaRole.Dialog, new() { Name = "Image viewer" });
        await Assertions.Expect(viewer.GetByTestId("lightbox-prompt")).ToHaveTextAsync("film noir still of a lighthouse, high contrast");
        var download = await owner.RunAndWaitForDownloadAsync(() => viewer.GetByRole(AriaRole.Link, new() { Name = "Download" }).ClickAsync());
        var png = await File.ReadAllBytesAsync(await download.PathAsync());
        var text = Encoding.Latin1.GetString(png);
        Assert.Contains("film noir still of a lighthouse, high contrast\nNegative prompt: colour\n", text, StringComparison.Ordinal);
        Assert.Contains("Style: Noir", text, StringComparison.Ordinal);
    }

    /// <summary>Makes a team as <paramref name="owner"/> and brings <paramref name="member"/> in with <paramref name="role"/>; the team page's address.</summary>
    private static async Task<string> TeamWithMemberAsync(IPage owner, IPage member, string team, string email, string role)
    {
        await owner.GotoAsync("/teams");
        await StudioPages.WaitForInteractiveAsync(owner);
        await owner.GetByRole(AriaRole.Button, new() { Name = "New team" }).ClickAsync();
        await owner.GetByLabel("Team name").FillAsync(team);
        await owner.GetByRole(AriaRole.Button, new() { Name = "Create team" }).ClickAsync();
        await owner.GetByLabel("Member email").FillAsync(email);
        await owner.GetByLabel("Role", new() { Exact = true }).ClickAsync();
        await owner.GetByRole(AriaRole.Option, new() { Name = role }).ClickAsync();
        await owner.GetByRole(AriaRole.Button, new() { Name = "Invite", Exact = true }).ClickAsync();
        await Assertions.Expect(owner.Locator($"tr[data-invitation='{email}']")).ToContainTextAsync(role);
        await member.GotoAsync("/teams");
        await StudioPages.WaitForInteractiveAsync(member);
        await member.GetByRole(AriaRole.Button, new() { Name = $"Accept the invitation to {team}" }).ClickAsync();
        await Assertions.Expect(owner.Locator($"tr[data-member='{email}']")).ToContainTextAsync(role);
        return new Uri(owner.Url).AbsolutePath;
    }

    private static async Task NewTeamGalleryAsync(IPage page, string name, string team)
    {
        await page.GotoAsync("/gallery");
        await StudioPages.WaitForInteractiveAsync(page);
        await page.GetByRole(AriaRole.Button, new() { Name = "New gallery" }).ClickAsync();
        await page.GetByLabel("Gallery name").FillAsync(name);
        await page.GetByLabel("Owned by").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = team }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create gallery" }).ClickAsync();
        await Assertions.Expect(page.GetByText("This gallery is empty")).ToBeVisibleAsync();
    }

    private static async Task OpenGalleryAsync(IPage page, string label)
    {
        await page.GotoAsync("/gallery");
        await StudioPages.WaitForInteractiveAsync(page);
        await page.GetByLabel("Gallery", new() { Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = label }).ClickAsync();
    }

    private static async Task SetNumberAsync(IPage page, string label, string value)
    {
        var field = page.GetByLabel(label, new() { Exact = true });
        await field.FillAsync(value);
        await field.PressAsync("Tab");
    }
}
