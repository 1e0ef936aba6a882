using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Components.Gallery;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components.Gallery;

public sealed class GalleryPageTests : StudioComponentTestBase
{
    [Fact]
    public async Task New_gallery_creates_a_row_and_opens_it_empty_and_rename_changes_its_name()
    {
        var (page, user) = await RenderGalleryAsync("maker@example.test");
        page.WaitForAssertion(() => Assert.Contains("No images yet — create one", page.Markup, StringComparison.Ordinal));

        ClickButton(page, "New gallery");
        await page.InvokeAsync(() => InputByLabel(page, "Gallery name").Input("Moodboard"));
        ClickButton(page, "Create gallery");

        Data.Entities.Gallery? gallery = null;
        await page.WaitForAssertionAsync(async () =>
        {
            await using var db = CreateDb();
            gallery = await db.Galleries.AsNoTracking().SingleOrDefaultAsync();
            Assert.NotNull(gallery);
        });
        Assert.Equal("Moodboard", gallery!.Name);
        Assert.Equal(user.Id, gallery.OwnerUserId);
        page.WaitForAssertion(() =>
        {
            Assert.Contains("This gallery is empty", page.Markup, StringComparison.Ordinal);
            Assert.EndsWith($"/gallery?g={gallery.Id}", Services.GetRequiredService<NavigationManager>().Uri, StringComparison.Ordinal);
            Assert.DoesNotContain(page.FindAll("label"), l => l.TextContent.Trim() == "Gallery name");
        });

        ClickButton(page, "Rename gallery");
        await page.InvokeAsync(() => InputByLabel(page, "New name").Input("Moodboard, spring"));
        ClickButton(page, "Save name");

        await page.WaitForAssertionAsync(async () =>
        {
            await using var db = CreateDb();
            Assert.Equal("Moodboard, spring", (await db.Galleries.AsNoTracking().SingleAsync()).Name);
        });
        page.WaitForAssertion(() => Assert.DoesNotContain(page.FindAll("label"), l => l.TextContent.Trim() == "New name"));
    }

    [Fact]
    public async Task Opening_someone_elses_gallery_reads_as_not_found()
    {
        AddGenerationServices();
        var owner = await AddUserAsync("owner@example.test");
        var stranger = await AddUserAsync("stranger@example.test");
        SignIn(stranger);
        var created = await Services.GetRequiredService<T2IStudio.Web.Galleries.GalleryService>().CreateAsync(StudioAppFactory.PrincipalOf(owner), "Private", null);
        var navigation = Services.GetRequiredService<NavigationManager>();
        var notFound = false;
        navigation.OnNotFound += (_, _) => notFound = true;
        navigation.NavigateTo($"/gallery?g={created.Id}");

        var page = Render<GalleryPage>();

        page.WaitForAssertion(() => Assert.True(notFound));
        Assert.DoesNotContain("Private", page.Markup, StringComparison.Ordinal);
    }

    private async Task<(IRenderedComponent<GalleryPage> Page, AppUser User)> RenderGalleryAsync(string email)
    {
        AddGenerationServices();
        var user = await AddUserAsync(email);
        SignIn(user);
        var page = Render<GalleryPage>();
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[aria-label='Loading images']")));
        return (page, user);
    }

    // The page re-renders on its own (pushed events): find and act in one renderer turn.
    private static void ClickButton(IRenderedComponent<GalleryPage> page, string text) =>
        page.InvokeAsync(() => page.FindAll("button").Single(b => b.TextContent.Trim() == text).Click()).GetAwaiter().GetResult();

    private static AngleSharp.Dom.IElement InputByLabel(IRenderedComponent<GalleryPage> page, string label)
    {
        var id = page.FindAll("label").First(l => l.TextContent.Trim() == label).GetAttribute("for");
        return page.FindAll("input").Single(i => i.Id == id);
    }

    private void SignIn(AppUser user)
    {
        var auth = AddAuthorization();
        auth.SetAuthorized(user.Email!);
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, user.Id));
        UseRealResourceChecks();
    }
}
