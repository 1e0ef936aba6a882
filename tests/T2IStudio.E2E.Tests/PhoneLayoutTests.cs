using Microsoft.Playwright;

namespace T2IStudio.E2E.Tests;

public sealed class PhoneLayoutTests(StudioServer server) : IClassFixture<StudioServer>
{
    [Fact]
    public async Task The_shell_fits_a_phone_with_the_navigation_behind_the_menu_button()
    {
        var page = await server.NewPageAsync(width: 390, height: 844);
        await StudioPages.RegisterAsync(page, "phone@example.test");

        var gallery = page.GetByRole(AriaRole.Link, new() { Name = "Gallery", Exact = true });
        await Assertions.Expect(gallery).Not.ToBeInViewportAsync();
        var scrollWidth = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
        Assert.True(scrollWidth <= 390, $"The page scrolls sideways on a phone ({scrollWidth}px wide)");
        await StudioPages.ScreenshotAsync(page, "shell-phone");

        await page.GetByRole(AriaRole.Button, new() { Name = "Toggle navigation" }).ClickAsync();
        await Assertions.Expect(gallery).ToBeInViewportAsync();
        await StudioPages.ScreenshotAsync(page, "shell-phone-menu");
        await gallery.ClickAsync();
        await Assertions.Expect(page.GetByText("No images yet — create one")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Gallery_inpaint_and_teams_fit_a_phone_without_sideways_scrolling()
    {
        var page = await server.NewPageAsync(width: 390, height: 844);
        await StudioPages.RegisterAsync(page, "pocket@example.test");
        foreach (var (path, heading) in new[] { ("/gallery", "Gallery"), ("/inpaint", "Inpaint"), ("/teams", "Teams") })
        {
            await page.GotoAsync(path);
            await StudioPages.WaitForInteractiveAsync(page);
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = heading, Level = 1 })).ToBeVisibleAsync();
            var scrollWidth = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
            Assert.True(scrollWidth <= 390, $"{path} scrolls sideways on a phone ({scrollWidth}px wide)");
            await StudioPages.ScreenshotAsync(page, "phone" + path.Replace('/', '-'));
        }
    }
}
