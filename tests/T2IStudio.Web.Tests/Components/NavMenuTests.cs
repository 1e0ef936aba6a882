using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Web.Components.Layout;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components;

public sealed class NavMenuTests : StudioComponentTestBase
{
    [Fact]
    public void Nav_shows_the_pages_the_API_reference_and_Admin_with_its_Queue_and_Workers_to_an_admin()
    {
        var auth = AddAuthorization();
        auth.SetAuthorized("ada@example.test");
        auth.SetRoles(AppDbContext.AdminRole);

        var nav = Render<NavMenu>();

        Assert.Equal(["Create", "Gallery", "Inpaint", "Teams", "Styles", "API", "Admin", "Queue", "Workers"], LinkTexts(nav));
        Assert.Equal("/admin", nav.FindAll("a").Single(a => a.TextContent.Trim() == "Admin").GetAttribute("href"));
        Assert.Equal("/admin/queue", nav.FindAll("a").Single(a => a.TextContent.Trim() == "Queue").GetAttribute("href"));
        Assert.Equal("/admin/workers", nav.FindAll("a").Single(a => a.TextContent.Trim() == "Workers").GetAttribute("href"));
    }

    [Fact]
    public void Nav_hides_Admin_from_a_member()
    {
        var auth = AddAuthorization();
        auth.SetAuthorized("bob@example.test");

        var nav = Render<NavMenu>();

        Assert.Equal(["Create", "Gallery", "Inpaint", "Teams", "Styles", "API"], LinkTexts(nav));
    }

    [Fact]
    public void Nav_marks_the_current_page_active_and_follows_navigation()
    {
        var auth = AddAuthorization();
        auth.SetAuthorized("bob@example.test");
        var navigation = Services.GetRequiredService<NavigationManager>();

        navigation.NavigateTo("/gallery/some-gallery");
        var nav = Render<NavMenu>();
        Assert.Equal(["Gallery"], ActiveLinks(nav));

        navigation.NavigateTo("/");
        nav.WaitForAssertion(() => Assert.Equal(["Create"], ActiveLinks(nav)));
        Assert.Equal("page", nav.FindAll("a").Single(a => a.TextContent.Trim() == "Create").GetAttribute("aria-current"));
    }

    private static string[] ActiveLinks(IRenderedComponent<NavMenu> nav) =>
        nav.FindAll("a.active").Select(a => a.TextContent.Trim()).ToArray();

    private static string[] LinkTexts(IRenderedComponent<NavMenu> nav) =>
        nav.FindAll("a").Select(a => a.TextContent.Trim()).ToArray();
}
