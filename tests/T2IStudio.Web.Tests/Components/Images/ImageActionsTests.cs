using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Components.Images;
using T2IStudio.Web.Storage;

namespace T2IStudio.Web.Tests.Components.Images;

public sealed class ImageActionsTests : ImageComponentTestBase
{
    [Fact]
    public async Task The_star_adds_the_favourite_row_and_takes_it_away_again()
    {
        var user = await SignInAsync("star@example.test");
        var image = await AddImageAsync(user.Id, "a red kite");
        var changed = new List<Guid>();

        var actions = Render<ImageActions>(p => p.Add(a => a.Image, image).Add(a => a.OnChanged, (GeneratedImage i) => changed.Add(i.Id)));
        actions.WaitForAssertion(() => Assert.Equal("false", actions.Find("button[aria-label=Favourite]").GetAttribute("aria-pressed")));

        await actions.InvokeAsync(() => actions.Find("button[aria-label=Favourite]").Click());
        actions.WaitForAssertion(() => Assert.Equal("true", actions.Find("button[aria-label=Favourite]").GetAttribute("aria-pressed")));
        await using (var db = CreateDb())
        {
            var favourite = await db.Favorites.SingleAsync();
            Assert.Equal((user.Id, image.Id), (favourite.UserId, favourite.ImageId));
        }

        await actions.InvokeAsync(() => actions.Find("button[aria-label=Favourite]").Click());
        actions.WaitForAssertion(() => Assert.Equal("false", actions.Find("button[aria-label=Favourite]").GetAttribute("aria-pressed")));
        await using (var db = CreateDb())
        {
            Assert.False(await db.Favorites.AnyAsync());
        }
        Assert.Equal([image.Id, image.Id], changed);
    }

    [Fact]
    public async Task Variations_queue_one_job_of_four_with_the_images_parameters_and_a_new_seed()
    {
        var user = await SignInAsync("variations@example.test");
        var image = await AddImageAsync(user.Id, "a green kite", negativePrompt: "fog");
        var actions = Render<ImageActions>(p => p.Add(a => a.Image, image));
        actions.WaitForAssertion(() => Assert.NotNull(actions.FindAll("button").SingleOrDefault(b => b.TextContent.Trim() == "Variations")));

        await actions.InvokeAsync(() => actions.FindAll("button").Single(b => b.TextContent.Trim() == "Variations").Click());

        await actions.WaitForAssertionAsync(async () =>
        {
            await using var db = CreateDb();
            var queued = await db.Jobs.SingleAsync(j => j.Status == JobStatus.Queued);
            var request = T2IStudio.Generation.Pipelines.GenerationMetadata.ReadStoredRequest(queued.RequestJson)!;
            Assert.Equal(("a green kite", "fog", 12, 6.5, 64, 48, T2IStudio.Generation.Schedulers.SchedulerKind.DpmPlusPlus2M, ImageActions.VariationCount),
                (request.Prompt, request.NegativePrompt, request.Steps, request.GuidanceScale, request.Width, request.Height, request.Scheduler, queued.BatchSize));
            Assert.NotEqual(image.Seed, request.Seed);
        });
        Assert.Contains(Services.GetRequiredService<ISnackbar>().ShownSnackbars, s => s.Message == "4 variations queued — they appear on Create and here in the gallery.");
    }

    [Fact]
    public async Task Upscale_greys_out_a_factor_the_server_would_refuse_and_says_why()
    {
        var user = await SignInAsync("upscale-limit@example.test");
        var image = await AddImageAsync(user.Id, "a huge kite");
        image.Width = 2048;
        image.Height = 2048;
        var popovers = Render<MudPopoverProvider>();
        var actions = Render<ImageActions>(p => p.Add(a => a.Image, image));
        actions.WaitForAssertion(() => Assert.NotNull(actions.FindAll("button").SingleOrDefault(b => b.TextContent.Trim() == "Upscale")));

        await actions.InvokeAsync(() => actions.FindAll("button").Single(b => b.TextContent.Trim() == "Upscale").Click());

        popovers.WaitForAssertion(() => Assert.Equal(2, popovers.FindAll(".mud-menu-item").Count));
        var items = popovers.FindAll(".mud-menu-item");
        var byTwo = items.Single(i => i.TextContent.Trim().StartsWith("×2 ", StringComparison.Ordinal));
        var byFour = items.Single(i => i.TextContent.Trim().StartsWith("×4 ", StringComparison.Ordinal));
        Assert.False(byTwo.ClassList.Contains("mud-disabled") || byTwo.HasAttribute("disabled"));
        Assert.True(byFour.ClassList.Contains("mud-disabled") || byFour.HasAttribute("disabled"), byFour.OuterHtml);
        Assert.Equal(T2IStudio.Web.Jobs.GenerationService.UpscaleRefusal(2048, 2048, 4), byFour.GetAttribute("title"));
    }

    [Fact]
    public async Task A_starred_image_opens_with_its_star_pressed()
    {
        var user = await SignInAsync("starred@example.test");
        var image = await AddImageAsync(user.Id, "a blue kite");
        await using (var db = CreateDb())
        {
            db.Favorites.Add(new Favorite { UserId = user.Id, ImageId = image.Id, CreatedAt = MadeAt });
            await db.SaveChangesAsync();
        }

        var actions = Render<ImageActions>(p => p.Add(a => a.Image, image));

        actions.WaitForAssertion(() => Assert.Equal("true", actions.Find("button[aria-label=Favourite]").GetAttribute("aria-pressed")));
    }

    [Fact]
    public async Task Delete_asks_first_keeps_the_image_on_keep_it_and_deletes_row_and_file_on_delete()
    {
        var user = await SignInAsync("delete@example.test");
        var image = await AddImageAsync(user.Id, "a paper boat");
        var deleted = new List<Guid>();
        var dialogs = Render<MudDialogProvider>();
        var actions = Render<ImageActions>(p => p.Add(a => a.Image, image).Add(a => a.OnDeleted, (Guid id) => deleted.Add(id)));
        var file = Services.GetRequiredService<ImageStore>().PathOf(image.FileKey);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllBytesAsync(file, [1, 2, 3]);

        actions.WaitForAssertion(() => Assert.Single(actions.FindAll("button"), b => b.TextContent.Trim() == "Delete"));
        await actions.InvokeAsync(() => actions.FindAll("button").Single(b => b.TextContent.Trim() == "Delete").Click());
        dialogs.WaitForAssertion(() => Assert.Contains("The image and its file are deleted for good.", dialogs.Markup, StringComparison.Ordinal));
        Assert.Contains("Delete this image?", dialogs.Markup, StringComparison.Ordinal);
        await dialogs.InvokeAsync(() => dialogs.FindAll("button").Single(b => b.TextContent.Trim() == "Keep it").Click());
        dialogs.WaitForAssertion(() => Assert.DoesNotContain("Delete this image?", dialogs.Markup, StringComparison.Ordinal));
        await using (var db = CreateDb())
        {
            Assert.True(await db.Images.AnyAsync(i => i.Id == image.Id));
        }
        Assert.Empty(deleted);

        await actions.InvokeAsync(() => actions.FindAll("button").Single(b => b.TextContent.Trim() == "Delete").Click());
        dialogs.WaitForAssertion(() => Assert.Contains("Delete this image?", dialogs.Markup, StringComparison.Ordinal));
        await dialogs.InvokeAsync(() => dialogs.FindAll("button").Single(b => b.TextContent.Trim() == "Delete").Click());

        actions.WaitForAssertion(() => Assert.Equal([image.Id], deleted));
        await using (var db = CreateDb())
        {
            Assert.False(await db.Images.AnyAsync(i => i.Id == image.Id));
        }
        Assert.False(File.Exists(file));
        Assert.Contains(Services.GetRequiredService<ISnackbar>().ShownSnackbars, s => s.Message == "Image deleted.");
    }
}
