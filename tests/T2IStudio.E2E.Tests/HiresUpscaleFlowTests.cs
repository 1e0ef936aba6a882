using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace T2IStudio.E2E.Tests;

/// <summary>
/// Create's Hires fix and the lightbox's Upscale in Chromium, with the nearest-neighbour ×4 fixture upscaler in a
/// second model root: a 64 px prompt comes out 256 px, and its ×4 upscale is a 1024 px child in the lineage.
/// </summary>
public sealed class HiresUpscaleFlowTests(HiresUpscaleFlowTests.WithUpscaler server) : IClassFixture<HiresUpscaleFlowTests.WithUpscaler>
{
    private const string Prompt = "a red circle above a blue square";

    /// <summary>The studio with the embedded models and the fixture upscaler.</summary>
    public sealed class WithUpscaler : StudioServer
    {
        private readonly string _upscalers = Directory.CreateTempSubdirectory("t2i-e2e-upscalers-").FullName;

        protected override IEnumerable<KeyValuePair<string, string?>> Settings(string baseUrl)
        {
            var folder = Path.Combine(_upscalers, "upscalers", "nearest-x4");
            Directory.CreateDirectory(folder);
            File.Copy(Path.Combine(RepositoryRoot.Path, "tests", "T2IStudio.Generation.Tests", "Fixtures", "upscaler_nearest_x4.onnx"), Path.Combine(folder, "model.onnx"), overwrite: true);
            return
            [
                new("Generation:ModelRoots:0", Path.Combine(RepositoryRoot.Path, "models")),
                new("Generation:ModelRoots:1", _upscalers),
            ];
        }
    }

    [Fact]
    public async Task Hires_fix_makes_a_larger_image_and_Upscale_x4_makes_a_child_four_times_larger()
    {
        var page = await server.NewPageAsync();
        await StudioPages.RegisterAsync(page, "hires@example.test");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Create", Level = 1 })).ToBeVisibleAsync();

        await page.GetByLabel("Prompt", new() { Exact = true }).FillAsync(Prompt);
        await page.GetByLabel("Hires fix", new() { Exact = true }).CheckAsync();
        await Assertions.Expect(page.GetByLabel("Upscale by", new() { Exact = true })).ToHaveValueAsync("4");
        await Assertions.Expect(page.GetByLabel("Denoising strength", new() { Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("64×64, upscaled and refined to 256×256")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate" }).ClickAsync();

        var job = page.GetByRole(AriaRole.Listitem, new() { Name = $"Job: {Prompt}" });
        await Assertions.Expect(job.GetByTestId("job-status")).ToHaveTextAsync(new Regex("^Done · 1 image"), new() { Timeout = 120_000 });

        await page.GetByRole(AriaRole.Link, new() { Name = "Gallery", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("gallery-count")).ToHaveTextAsync("1 image");
        await page.GetByRole(AriaRole.Button, new() { Name = $"Open image: {Prompt}" }).First.ClickAsync();
        var viewer = page.GetByRole(AriaRole.Dialog, new() { Name = "Image viewer" });
        await Assertions.Expect(viewer.GetByText("256 × 256")).ToBeVisibleAsync();
        await Assertions.Expect(viewer.GetByTestId("lightbox-hires")).ToHaveTextAsync("64×64 ×4 with nearest-x4, denoising 0.35");
        await StudioPages.ScreenshotAsync(page, "hires-fix");

        await viewer.GetByRole(AriaRole.Button, new() { Name = "Upscale" }).ClickAsync();
        await page.GetByRole(AriaRole.Menuitem, new() { Name = "×4 (1024×1024)" }).ClickAsync();
        await Assertions.Expect(page.GetByText(new Regex("Upscale ×4 queued"))).ToBeVisibleAsync();

        // The child appears in the lineage once its job is done (the gallery updates itself); open it.
        var child = viewer.GetByRole(AriaRole.Button, new() { Name = $"Open upscaled child: {Prompt}" });
        await Assertions.Expect(page.GetByTestId("gallery-count")).ToHaveTextAsync("2 images", new() { Timeout = 120_000 });
        await page.Keyboard.PressAsync("Escape");
        await page.GetByRole(AriaRole.Button, new() { Name = $"Open image: {Prompt}" }).Last.ClickAsync();
        await Assertions.Expect(viewer.GetByText("256 × 256")).ToBeVisibleAsync();
        await Assertions.Expect(child).ToBeVisibleAsync();
        await child.ClickAsync();
        await Assertions.Expect(viewer.GetByText("1024 × 1024")).ToBeVisibleAsync();
        await Assertions.Expect(viewer.GetByRole(AriaRole.Button, new() { Name = "Open parent image" })).ToBeVisibleAsync();
        await Assertions.Expect(viewer.GetByTestId("lightbox-upscale")).ToHaveTextAsync("×4 with nearest-x4");
        await StudioPages.ScreenshotAsync(page, "upscaled");
    }
}
