using System.Globalization;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Web.Components.Images;
using T2IStudio.Web.Images;

namespace T2IStudio.Web.Tests.Components.Images;

public sealed class ImageViewerTests : ImageComponentTestBase
{
    [Fact]
    public async Task It_shows_the_picture_the_prompts_and_every_parameter_of_a_stored_image()
    {
        var user = await SignInAsync("viewer@example.test");
        var row = await AddImageAsync(user.Id, "a lighthouse at dusk", strength: 0.55, negativePrompt: "fog");
        var image = await Services.GetRequiredService<ImageLibrary>().GetAsync(Principal(user.Id), row.Id);

        var viewer = Render<ImageViewer>(p => p.Add(v => v.Image, image!));

        Assert.Equal($"/images/{row.Id}", viewer.Find("img.studio-lightbox-img").GetAttribute("src"));
        Assert.Equal("a lighthouse at dusk", viewer.Find("[data-testid=lightbox-prompt]").TextContent.Trim());
        Assert.Contains(viewer.FindAll("p, h6, span").Select(e => e.TextContent.Trim()), t => t == "fog");
        var list = viewer.Find("dl[aria-label=Parameters]");
        var parameters = list.QuerySelectorAll("dt").Zip(list.QuerySelectorAll("dd"), (dt, dd) => (dt.TextContent, dd.TextContent.Trim())).ToList();
        Assert.Equal(
        [
            ("Model", "t2istudio-tiny (abcdef0123)"),
            ("Seed", "4242"),
            ("Sampler", "DPM++ 2M"),
            ("Steps", "12"),
            ("Guidance", "6.5"),
            ("Size", "64 × 48"),
            ("Created", MadeAt.ToLocalTime().ToString("g", CultureInfo.CurrentCulture)),
            ("Denoising", "0.55"),
        ], parameters);
        Assert.Equal("4242", viewer.Find("[data-testid=lightbox-seed]").TextContent.Trim());
    }

    [Fact]
    public async Task An_image_without_a_stored_request_shows_what_its_row_knows()
    {
        var user = await SignInAsync("bare@example.test");
        var row = await AddImageAsync(user.Id, "an old upload");
        row.RequestJson = "";
        row.ModelHash = null;

        var viewer = Render<ImageViewer>(p => p.Add(v => v.Image, row));

        Assert.Equal(["Model", "Seed", "Size", "Created"], viewer.FindAll("dl[aria-label=Parameters] dt").Select(dt => dt.TextContent));
        Assert.Equal("t2istudio-tiny", viewer.Find("dl[aria-label=Parameters] dd").TextContent.Trim());
        Assert.DoesNotContain("Negative prompt", viewer.Markup, StringComparison.Ordinal);
    }
}
