using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace T2IStudio.E2E.Tests;

/// <summary>The first use case end to end in Chromium: prompt → live progress → gallery → lightbox → reuse and download.</summary>
public sealed class GenerateFlowTests(StudioServer server) : IClassFixture<StudioServer>
{
    private const string Prompt = "a red circle on a blue background";

    [Fact]
    public async Task Type_a_prompt_press_ctrl_enter_watch_it_form_then_find_open_reuse_and_download_it()
    {
        var page = await server.NewPageAsync();
        await StudioPages.RegisterAsync(page, "maker@example.test");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Create", Level = 1 })).ToBeVisibleAsync();

        // The token count follows the typing.
        var prompt = page.GetByLabel("Prompt", new() { Exact = true });
        await prompt.FillAsync(Prompt);
        await Assertions.Expect(page.GetByTestId("token-count")).ToHaveTextAsync("7 / 75");

        // Enough work to watch: 150 steps, four images.
        await SetNumberAsync(page, "Steps", "150");
        await SetNumberAsync(page, "Batch count", "4");
        await StudioPages.ScreenshotAsync(page, "create-filled");

        await prompt.FocusAsync();
        await page.Keyboard.PressAsync("Control+Enter");

        var job = page.GetByRole(AriaRole.Listitem, new() { Name = $"Job: {Prompt}" });
        await Assertions.Expect(job).ToBeVisibleAsync();
        var progress = job.GetByRole(AriaRole.Progressbar);
        await Assertions.Expect(progress).ToHaveAttributeAsync("aria-valuenow", new Regex("^[1-9][0-9]?$"));
        var first = int.Parse(await progress.GetAttributeAsync("aria-valuenow") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
        await page.WaitForFunctionAsync(
            "first => [...document.querySelectorAll('[role=progressbar][aria-valuenow]')].some(p => +p.getAttribute('aria-valuenow') > first) || document.querySelector('[data-status=Completed]')",
            first);
        await Assertions.Expect(job.GetByRole(AriaRole.Img, new() { Name = "Live preview" })).ToBeVisibleAsync();
        await StudioPages.ScreenshotAsync(page, "create-running");

        await Assertions.Expect(job.GetByTestId("job-status")).ToHaveTextAsync(new Regex("^Done · 4 images"), new() { Timeout = 120_000 });
        await Assertions.Expect(job.GetByRole(AriaRole.Button, new() { Name = $"Open image 1 of 4: {Prompt}" })).ToBeVisibleAsync();
        await StudioPages.ScreenshotAsync(page, "create-done");

        // The gallery has all four, newest first; open one.
        await page.GetByRole(AriaRole.Link, new() { Name = "Gallery", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("gallery-count")).ToHaveTextAsync("4 images");
        var tiles = page.GetByRole(AriaRole.Button, new() { Name = $"Open image: {Prompt}" });
        await Assertions.Expect(tiles).ToHaveCountAsync(4);
        await StudioPages.ScreenshotAsync(page, "gallery");
        await tiles.First.ClickAsync();
        var viewer = page.GetByRole(AriaRole.Dialog, new() { Name = "Image viewer" });
        await Assertions.Expect(viewer.GetByTestId("lightbox-prompt")).ToHaveTextAsync(Prompt);
        var seed = await viewer.GetByTestId("lightbox-seed").InnerTextAsync();
        await StudioPages.ScreenshotAsync(page, "lightbox");

        // Download: the PNG carries its A1111 parameters.
        var download = await page.RunAndWaitForDownloadAsync(() => viewer.GetByRole(AriaRole.Link, new() { Name = "Download" }).ClickAsync());
        var path = Path.Combine(Path.GetTempPath(), "t2i-e2e-" + Guid.NewGuid().ToString("N") + ".png");
        await download.SaveAsAsync(path);
        var bytes = await File.ReadAllBytesAsync(path);
        File.Delete(path);
        var text = Encoding.Latin1.GetString(bytes);
        Assert.StartsWith("\u0089PNG", text, StringComparison.Ordinal);
        Assert.Contains("tEXtparameters\0" + Prompt, text, StringComparison.Ordinal);
        Assert.Contains($"Seed: {seed}", text, StringComparison.Ordinal);

        // Arrow keys move through the images; Reuse parameters fills Create with the image's settings.
        await page.Keyboard.PressAsync("ArrowRight");
        await Assertions.Expect(viewer.GetByTestId("lightbox-seed")).Not.ToHaveTextAsync(seed);
        var secondSeed = await viewer.GetByTestId("lightbox-seed").InnerTextAsync();
        await viewer.GetByRole(AriaRole.Link, new() { Name = "Reuse parameters" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/create\\?from="));
        await StudioPages.WaitForInteractiveAsync(page);
        await Assertions.Expect(page.GetByLabel("Prompt", new() { Exact = true })).ToHaveValueAsync(Prompt);
        await Assertions.Expect(page.GetByLabel("Seed", new() { Exact = true })).ToHaveValueAsync(secondSeed);
        await Assertions.Expect(page.GetByLabel("Steps", new() { Exact = true })).ToHaveValueAsync("150");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Lock seed" })).ToHaveAttributeAsync("aria-pressed", "true");
    }

    private static async Task SetNumberAsync(IPage page, string label, string value)
    {
        var field = page.GetByLabel(label, new() { Exact = true });
        await field.FillAsync(value);
        await field.PressAsync("Tab");
        await Assertions.Expect(field).ToHaveValueAsync(value);
    }
}
