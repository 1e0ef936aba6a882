using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Web.Components.Layout;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components.Layout;

/// <summary>The account menu draws MudMenu's markup itself: a menu button named by the person, a menu of links and Sign out.</summary>
public sealed class AccountMenuTests : StudioComponentTestBase
{
    [Fact]
    public void The_button_opens_a_menu_of_account_links_and_sign_out_and_Escape_or_a_click_outside_closes_it()
    {
        var menu = RenderSignedIn();

        var button = menu.Find("button[aria-haspopup=menu]");
        Assert.Equal("Ana", button.TextContent.Trim());
        Assert.Equal("false", button.GetAttribute("aria-expanded"));
        Assert.Empty(menu.FindAll("[role=menu]"));

        button.Click();

        var list = menu.Find("[role=menu]");
        Assert.Equal("true", menu.Find("button[aria-haspopup=menu]").GetAttribute("aria-expanded"));
        Assert.Equal(list.Id, menu.Find("button[aria-haspopup=menu]").GetAttribute("aria-controls"));
        Assert.Equal(["Your account", "API tokens", "Change password", "Two-factor authentication"],
            menu.FindAll("[role=menuitem]").Select(i => i.TextContent.Trim()));
        Assert.Equal("/Account/Manage/TwoFactor", menu.FindAll("a[role=menuitem]").Single(a => a.TextContent.Trim() == "Two-factor authentication").GetAttribute("href"));
        Assert.Contains("ana@example.test", list.TextContent, StringComparison.Ordinal);
        var signOut = menu.FindAll("form[action='/Account/Logout'] button[type=submit]").Single();
        Assert.Equal("Sign out", signOut.TextContent.Trim());

        list.KeyDown(new KeyboardEventArgs { Key = "Escape" });
        Assert.Empty(menu.FindAll("[role=menu]"));

        menu.Find("button[aria-haspopup=menu]").KeyDown(new KeyboardEventArgs { Key = "ArrowDown" });
        Assert.NotEmpty(menu.FindAll("[role=menu]"));
        menu.Find(".studio-popover-overlay").Click();
        Assert.Empty(menu.FindAll("[role=menu]"));
    }

    [Fact]
    public void An_item_closes_the_menu_and_goes_to_its_page()
    {
        var menu = RenderSignedIn();

        menu.Find("button[aria-haspopup=menu]").Click();
        menu.FindAll("a[role=menuitem]").Single(a => a.TextContent.Trim() == "API tokens").Click();

        Assert.EndsWith("/account/api-tokens", Services.GetRequiredService<NavigationManager>().Uri, StringComparison.Ordinal);
        Assert.Empty(menu.FindAll("[role=menu]"));
    }

    [Fact]
    public async Task The_arrow_keys_Home_and_End_move_through_the_items_and_wrap()
    {
        var focus = new MenuFocus(5);
        focus.Focused(0);

        Assert.True(await MovedAsync(focus, "ArrowUp"));
        Assert.Equal(4, focus.Current);
        Assert.True(await MovedAsync(focus, "ArrowDown"));
        Assert.Equal(0, focus.Current);
        Assert.True(await MovedAsync(focus, "End"));
        Assert.Equal(4, focus.Current);
        Assert.True(await MovedAsync(focus, "Home"));
        Assert.Equal(0, focus.Current);
        Assert.False(await MovedAsync(focus, "a"));
        Assert.Equal(0, focus.Current);
    }

    private static async Task<bool> MovedAsync(MenuFocus focus, string key)
    {
        var moved = focus.Move(new KeyboardEventArgs { Key = key }, 5);
        await focus.ApplyAsync(); // no element is rendered: only the index moves
        return moved;
    }

    private IRenderedComponent<AccountMenu> RenderSignedIn()
    {
        var auth = AddAuthorization();
        auth.SetAuthorized("ana@example.test");
        auth.SetClaims(new Claim(T2IStudio.Web.Auth.StudioClaimsPrincipalFactory.DisplayNameClaim, "Ana"));
        return Render<AccountMenu>();
    }
}
