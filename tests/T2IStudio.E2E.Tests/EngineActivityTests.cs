using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace T2IStudio.E2E.Tests;

/// <summary>Admin → Generation engine in Chromium: the empty state, then a job's figures arriving live on the open page.</summary>
public sealed class EngineActivityTests(StudioServer server) : IClassFixture<StudioServer>
{
    [Fact]
    public async Task The_open_admin_page_shows_a_finished_jobs_wait_run_time_and_seconds_per_step_without_a_reload()
    {
        var page = await server.NewPageAsync();
        await StudioPages.RegisterAsync(page, "engine-admin@example.test");
        await page.GetByRole(AriaRole.Link, new() { Name = "Admin", Exact = true }).ClickAsync();
        var activity = page.GetByTestId("engine-activity");
        await Assertions.Expect(activity).ToContainTextAsync("No jobs have run since the server started");
        await Assertions.Expect(page.GetByTestId("engine-workers")).ToHaveTextAsync("1");
        await activity.ScrollIntoViewIfNeededAsync();
        await StudioPages.ScreenshotAsync(page, "admin-engine-empty");

        var creator = await server.NewPageAsync();
        await StudioPages.SignInAsync(creator, "engine-admin@example.test");
        await creator.GotoAsync("/");
        await StudioPages.WaitForInteractiveAsync(creator);
        await Assertions.Expect(creator.GetByRole(AriaRole.Heading, new() { Name = "Create", Level = 1 })).ToBeVisibleAsync();
        var prompt = creator.GetByLabel("Prompt", new() { Exact = true });
        await prompt.FillAsync("a red circle on a blue background");
        await prompt.FocusAsync();
        await creator.Keyboard.PressAsync("Control+Enter");
        var job = creator.GetByRole(AriaRole.Listitem, new() { Name = "Job: a red circle on a blue background" });
        await Assertions.Expect(job.GetByTestId("job-status")).ToHaveTextAsync(new Regex("^Done"), new() { Timeout = 120_000 });

        // The admin page was left open: the two-second refresh brings the figures.
        var row = page.GetByTestId("engine-models").Locator("tbody tr");
        await Assertions.Expect(row).ToContainTextAsync("t2istudio-tiny");
        await Assertions.Expect(page.GetByTestId("engine-steps").Locator("tbody tr")).ToContainTextAsync(new Regex(@"t2istudio-tiny\s*\d+×\d+\s*[\d.]+ s / [\d.]+ s"));
        await Assertions.Expect(page.GetByTestId("engine-circuits")).ToHaveTextAsync(new Regex("^[2-9]$"));
        await StudioPages.ScreenshotAsync(page, "admin-engine-figures");
    }
}
