using Microsoft.Playwright;

namespace T2IStudio.E2E.Tests;

/// <summary>
/// Crafted files from the corpus (tools/corpus/make_corpus.py) through the real upload control on /inpaint: each
/// refusal shows its message in a snackbar, the page stays usable, and a good file afterwards opens the editor.
/// </summary>
public sealed class InpaintUploadIntakeTests(StudioServer server) : IClassFixture<StudioServer>
{
    private static readonly string Corpus = Path.Combine(AppContext.BaseDirectory, "corpus");

    [Fact]
    public async Task Bombs_huge_headers_and_animations_get_their_message_and_a_good_upload_afterwards_opens_the_editor()
    {
        var page = await server.NewPageAsync();
        await StudioPages.RegisterAsync(page, "intake@example.test");
        await page.GotoAsync("/inpaint");
        await StudioPages.WaitForInteractiveAsync(page);
        var upload = page.GetByLabel("Upload image");

        foreach (var (file, message) in new[]
        {
            ("bomb-ztxt-256mib.png", "This PNG carries a zTXt text chunk that inflates past 256 KB (a decompression bomb)."),
            ("webp-animated.webp", "This WebP is animated; T2I Studio reads still images only."),
            ("header-65535x65535.png", "This PNG is 65535×65535 (4096 megapixels)."),
            ("gif-animated.gif", "This file is a GIF image."),
        })
        {
            await upload.SetInputFilesAsync(Path.Combine(Corpus, file));
            await Assertions.Expect(page.GetByText(message, new() { Exact = false }).First).ToBeVisibleAsync();
            // Still on the chooser, still usable.
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Choose an image" })).ToBeVisibleAsync();
        }

        // A camera JPEG turned on its side by EXIF: read upright, 20 × 40, and the editor opens on it.
        await upload.SetInputFilesAsync(Path.Combine(Corpus, "jpeg-exif-orientation-6.jpg"));
        await Assertions.Expect(page.GetByText("Uploaded jpeg-exif-orientation-6.jpg · 20 × 40")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByLabel("Mask canvas")).ToHaveAttributeAsync("data-ready", "true");
    }

    [Fact]
    public async Task A_large_upload_is_kept_at_the_working_size_and_the_undo_history_stays_within_its_budget()
    {
        var page = await server.NewPageAsync();
        await StudioPages.RegisterAsync(page, "large@example.test");
        await page.GotoAsync("/inpaint");
        await StudioPages.WaitForInteractiveAsync(page);

        await page.GetByLabel("Upload image").SetInputFilesAsync(Path.Combine(Corpus, "bomb-idat-16mp.png"));

        await Assertions.Expect(page.GetByText("Uploaded bomb-idat-16mp.png (4096 × 4096, reduced) · 2048 × 2048")).ToBeVisibleAsync();
        var canvas = page.GetByLabel("Mask canvas");
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-ready", "true");
        var box = (await canvas.BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(box.X + box.Width / 2 - 20, box.Y + box.Height / 2);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(box.X + box.Width / 2 + 20, box.Y + box.Height / 2, new() { Steps = 6 });
        await page.Mouse.UpAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Undo" })).ToBeEnabledAsync();
        // The undo history holds the stroke's rectangle of alpha, far less than one 2048² snapshot (16 MB RGBA).
        Assert.InRange(await UndoBytesAsync(canvas), 1, 2048L * 2048 / 4);

        // Clear, undo, redo, invert keep their meaning with the rectangle history.
        var paintFirst = page.GetByText("Paint on the image first.");
        await Assertions.Expect(paintFirst).Not.ToBeVisibleAsync();
        var clear = page.GetByRole(AriaRole.Button, new() { Name = "Clear" });
        await clear.ClickAsync();
        await Assertions.Expect(paintFirst).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Undo" }).ClickAsync();
        await Assertions.Expect(paintFirst).Not.ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Redo" }).ClickAsync();
        await Assertions.Expect(paintFirst).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Invert mask" }).ClickAsync();
        await Assertions.Expect(paintFirst).Not.ToBeVisibleAsync();

        // Each whole-mask change keeps 4 MB (one byte a pixel); twenty of them stay under the 64 MB budget.
        var changes = int.Parse((await canvas.GetAttributeAsync("data-changes"))!, System.Globalization.CultureInfo.InvariantCulture);
        for (var k = 1; k <= 20; k++)
        {
            await clear.ClickAsync();
            await Assertions.Expect(canvas).ToHaveAttributeAsync("data-changes", (changes + k).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        Assert.InRange(await UndoBytesAsync(canvas), 12 * 2048L * 2048, 64L * 1024 * 1024);
    }

    private static async Task<long> UndoBytesAsync(ILocator canvas) =>
        long.Parse((await canvas.GetAttributeAsync("data-undo-bytes"))!, System.Globalization.CultureInfo.InvariantCulture);
}
