using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Realtime;

namespace T2IStudio.E2E.Tests;

/// <summary>The mask editor in Chromium: paint with the mouse, undo and redo, inpaint, and check the pixels.</summary>
public sealed class InpaintFlowTests(StudioServer server) : IClassFixture<StudioServer>
{
    private const int Side = 64;

    [Fact]
    public async Task Paint_a_stroke_undo_and_redo_it_inpaint_and_only_the_painted_band_changes()
    {
        var page = await server.NewPageAsync();
        await StudioPages.RegisterAsync(page, "painter@example.test");
        var parentId = await GenerateAsync("painter@example.test", "a blue square on a white background");

        // From the gallery's lightbox to the editor.
        await page.GotoAsync("/gallery");
        await StudioPages.WaitForInteractiveAsync(page);
        await page.GetByRole(AriaRole.Button, new() { Name = "Open image: a blue square on a white background" }).ClickAsync();
        var viewerDialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Image viewer" });
        // The viewer has loaded everything it shows (comments come last) before we act in it.
        await Assertions.Expect(viewerDialog.GetByText("No comments yet.")).ToBeVisibleAsync();
        await viewerDialog.GetByRole(AriaRole.Link, new() { Name = "Inpaint" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/inpaint\\?image={parentId}"));
        var canvas = page.GetByLabel("Mask canvas");
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-ready", "true");

        // A horizontal stroke across the middle row of the 64×64 image, in screen coordinates.
        var box = (await canvas.BoundingBoxAsync())!;
        var side = Math.Min(box.Width, box.Height) * 0.96f;
        var left = box.X + (box.Width - side) / 2;
        var top = box.Y + (box.Height - side) / 2;
        float X(float x) => left + x / Side * side;
        float Y(float y) => top + y / Side * side;
        await page.Mouse.MoveAsync(X(16), Y(32));
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(X(48), Y(32), new() { Steps = 12 });
        await page.Mouse.UpAsync();

        var undo = page.GetByRole(AriaRole.Button, new() { Name = "Undo" });
        var redo = page.GetByRole(AriaRole.Button, new() { Name = "Redo" });
        await Assertions.Expect(undo).ToBeEnabledAsync();
        await Assertions.Expect(redo).ToBeDisabledAsync();
        await StudioPages.ScreenshotAsync(page, "inpaint-painted");
        await undo.ClickAsync();
        await Assertions.Expect(redo).ToBeEnabledAsync();
        await Assertions.Expect(page.GetByText("Paint on the image first.")).ToBeVisibleAsync();
        await canvas.FocusAsync();
        await page.Keyboard.PressAsync("Control+Shift+Z"); // redo from the keyboard while the canvas has focus
        await Assertions.Expect(redo).ToBeDisabledAsync();
        await Assertions.Expect(page.GetByText("Paint on the image first.")).Not.ToBeVisibleAsync();

        // Keys while the canvas has focus: E picks the eraser, B the brush, ] grows the brush.
        await page.Keyboard.PressAsync("e");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Eraser" })).ToHaveAttributeAsync("aria-pressed", "true");
        await page.Keyboard.PressAsync("b");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Brush", Exact = true })).ToHaveAttributeAsync("aria-pressed", "true");
        await page.Keyboard.PressAsync("]");
        await Assertions.Expect(page.GetByLabel("Brush size")).Not.ToHaveValueAsync("6");

        await page.GetByLabel("Prompt", new() { Exact = true }).FillAsync("a red band");
        await page.GetByRole(AriaRole.Button, new() { Name = "Inpaint", Exact = true }).ClickAsync();
        var result = page.GetByTestId("inpaint-result");
        await Assertions.Expect(result).ToBeVisibleAsync(new() { Timeout = 120_000 });
        await StudioPages.ScreenshotAsync(page, "inpaint-result");
        var childId = Guid.Parse((await result.GetAttributeAsync("data-image-id"))!);

        var parent = await DownloadAsync(page, parentId);
        var child = await DownloadAsync(page, childId);
        Assert.Equal((Side, Side), (child.Width, child.Height));
        // Far from the stroke (rows 0–10 and 54–63: beyond brush, feather and blur) every byte is the parent's.
        foreach (var y in Enumerable.Range(0, 11).Concat(Enumerable.Range(54, 10)))
        {
            for (var x = 0; x < Side; x++)
            {
                Assert.True(SamePixel(parent, child, x, y), $"pixel ({x},{y}) changed far from the stroke");
            }
        }
        // Under the stroke most pixels changed.
        var under = Enumerable.Range(20, 25).Count(x => !SamePixel(parent, child, x, 32));
        Assert.True(under > 15, $"only {under} of 25 pixels under the stroke changed");

        // The result is in the gallery with its lineage.
        await page.GetByRole(AriaRole.Button, new() { Name = "Open result" }).ClickAsync();
        var viewer = page.GetByRole(AriaRole.Dialog, new() { Name = "Image viewer" });
        await Assertions.Expect(viewer.GetByRole(AriaRole.Button, new() { Name = "Open parent image" })).ToBeVisibleAsync();
        await StudioPages.ScreenshotAsync(page, "inpaint-lineage");
    }

    private async Task<Guid> GenerateAsync(string email, string prompt)
    {
        using var scope = server.Services.CreateScope();
        var user = (await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(email))!;
        var principal = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity([new(System.Security.Claims.ClaimTypes.NameIdentifier, user.Id)], "test"));
        var done = new TaskCompletionSource<Guid>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = server.Services.GetRequiredService<StudioNotifier>().Subscribe(user.Id, e =>
        {
            if (e is JobCompleted completed)
            {
                done.TrySetResult(completed.ImageIds[0]);
            }
            return Task.CompletedTask;
        });
        var submitted = await scope.ServiceProvider.GetRequiredService<GenerationService>().SubmitAsync(principal, new JobRequest
        {
            Model = "t2istudio-tiny",
            Request = new GenerationRequest { Prompt = prompt, Steps = 10, Width = Side, Height = Side, GuidanceScale = 4, Scheduler = SchedulerKind.Ddim, Seed = 7 },
        });
        Assert.True(submitted.Succeeded, string.Join(" ", submitted.Errors));
        return await done.Task.WaitAsync(TimeSpan.FromMinutes(2));
    }

    private static async Task<RgbImage> DownloadAsync(IPage page, Guid id)
    {
        var response = await page.Context.APIRequest.GetAsync($"/images/{id}");
        Assert.Equal(200, response.Status);
        using var stream = new MemoryStream(await response.BodyAsync());
        return PngFiles.Decode(stream);
    }

    private static bool SamePixel(RgbImage a, RgbImage b, int x, int y)
    {
        var i = 3 * (y * a.Width + x);
        return a.Pixels[i] == b.Pixels[i] && a.Pixels[i + 1] == b.Pixels[i + 1] && a.Pixels[i + 2] == b.Pixels[i + 2];
    }

    [Fact]
    public async Task An_upload_opens_in_the_editor_and_a_file_that_is_not_an_image_gets_a_clear_message()
    {
        var page = await server.NewPageAsync();
        await StudioPages.RegisterAsync(page, "uploader@example.test");
        await page.GotoAsync("/inpaint");
        await StudioPages.WaitForInteractiveAsync(page);

        await page.GetByLabel("Upload image").SetInputFilesAsync(new FilePayload { Name = "notes.png", MimeType = "image/png", Buffer = "not an image"u8.ToArray() });
        await Assertions.Expect(page.GetByText("This file is not a PNG, JPEG or WebP image.", new() { Exact = false })).ToBeVisibleAsync();

        var png = PngFiles.Encode(RgbImage.Filled(96, 64, 30, 160, 90), null, null);
        await page.GetByLabel("Upload image").SetInputFilesAsync(new FilePayload { Name = "green.png", MimeType = "image/png", Buffer = png });
        await Assertions.Expect(page.GetByText("Uploaded green.png · 96 × 64")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByLabel("Mask canvas")).ToHaveAttributeAsync("data-ready", "true");
        await StudioPages.ScreenshotAsync(page, "inpaint-upload");
    }
}
