using Bunit;
using Microsoft.AspNetCore.Components.Web;
using MudBlazor;
using T2IStudio.Web.Components.Images;

namespace T2IStudio.Web.Tests.Components.Images;

public sealed class ImageLightboxTests : ImageComponentTestBase
{
    [Fact]
    public async Task Arrow_keys_raise_navigate_escape_raises_close_and_focus_moves_into_the_viewer()
    {
        var user = await SignInAsync("keys@example.test");
        var image = await AddImageAsync(user.Id, "a windmill in the rain");
        var navigations = new List<bool>();
        var closes = 0;
        // MudDialog renders its content through the dialog provider, as MainLayout has it.
        var dialogs = Render<MudDialogProvider>();

        Render<ImageLightbox>(p => p
            .Add(l => l.ImageId, image.Id)
            .Add(l => l.OnNavigate, (bool older) => navigations.Add(older))
            .Add(l => l.OnClose, () => closes++));

        dialogs.WaitForAssertion(() => Assert.Equal("a windmill in the rain", dialogs.Find("[data-testid=lightbox-prompt]").TextContent.Trim()));
        Assert.NotNull(dialogs.Find("[aria-label='Image viewer']"));
        Assert.NotNull(dialogs.Find("button[aria-label='Previous image (newer)']"));
        Assert.NotNull(dialogs.Find("button[aria-label='Next image (older)']"));
        dialogs.WaitForAssertion(() => JSInterop.VerifyFocusAsyncInvoke());

        await dialogs.InvokeAsync(() => dialogs.Find(".studio-lightbox-keys").KeyDown(new KeyboardEventArgs { Key = "ArrowLeft" }));
        await dialogs.InvokeAsync(() => dialogs.Find(".studio-lightbox-keys").KeyDown(new KeyboardEventArgs { Key = "ArrowRight" }));
        await dialogs.InvokeAsync(() => dialogs.Find(".studio-lightbox-keys").KeyDown(new KeyboardEventArgs { Key = "Escape" }));

        Assert.Equal([false, true], navigations);
        Assert.Equal(1, closes);
    }

    [Fact]
    public async Task Someone_elses_image_is_not_available()
    {
        await SignInAsync("curious@example.test");
        var owner = await AddUserAsync("private@example.test");
        var image = await AddImageAsync(owner.Id, "a private sketch");
        var dialogs = Render<MudDialogProvider>();

        Render<ImageLightbox>(p => p.Add(l => l.ImageId, image.Id));

        dialogs.WaitForAssertion(() => Assert.Equal("This image is not available.", dialogs.Find("[role=alert]").TextContent.Trim()));
        Assert.DoesNotContain("a private sketch", dialogs.Markup, StringComparison.Ordinal);
        Assert.Empty(dialogs.FindAll("[data-testid=lightbox-prompt]"));
    }
}
