using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using MudBlazor.Extensions;
using T2IStudio.Web.Components.Layout;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components;

public sealed class MainLayoutTests : StudioComponentTestBase
{
    [Fact]
    public async Task Theme_toggle_switches_to_dark_and_back_and_remembers_the_choice()
    {
        var user = await AddUserAsync("theme@example.test");
        SignIn(user.Id, user.Email!);

        var layout = RenderLayout();
        Assert.False(IsDark(layout));
        Assert.Equal("light", layout.Find(".mud-layout").GetAttribute("data-theme"));

        layout.Find("button[aria-label='Toggle dark mode']").Click();
        layout.WaitForAssertion(() => Assert.True(IsDark(layout)));
        Assert.Equal("dark", layout.Find(".mud-layout").GetAttribute("data-theme"));
        Assert.Equal("true", layout.Find("button[aria-label='Toggle dark mode']").GetAttribute("aria-pressed"));
        Assert.True((await ReadUserAsync(user.Id)).PrefersDarkMode);

        layout.Find("button[aria-label='Toggle dark mode']").Click();
        layout.WaitForAssertion(() => Assert.False(IsDark(layout)));
        Assert.False((await ReadUserAsync(user.Id)).PrefersDarkMode);
    }

    [Fact]
    public async Task A_stored_dark_choice_applies_on_the_next_visit()
    {
        var user = await AddUserAsync("dark@example.test", prefersDarkMode: true);
        SignIn(user.Id, user.Email!);

        var layout = RenderLayout();

        Assert.True(IsDark(layout));
        Assert.Equal("dark", layout.Find(".mud-layout").GetAttribute("data-theme"));
    }

    [Fact]
    public async Task Account_menu_button_is_named_by_the_display_name()
    {
        var user = await AddUserAsync("grace@example.test");
        SignIn(user.Id, user.Email!, displayName: "Grace Hopper");

        var layout = RenderLayout();

        Assert.Contains(layout.FindAll("button"), b => b.TextContent.Trim() == "Grace Hopper");
    }

    [Fact]
    public async Task A_failing_page_handler_shows_an_error_inside_the_shell_and_try_again_brings_the_page_back()
    {
        var user = await AddUserAsync("oops@example.test");
        SignIn(user.Id, user.Email!);
        var layout = Render<MainLayout>(p => p.Add(l => l.Body, (RenderFragment)(b =>
        {
            b.OpenComponent<T2IStudio.Web.Tests.Components.Layout.FailingHandler>(0);
            b.CloseComponent();
        })));

        await layout.InvokeAsync(() => layout.FindAll("button").Single(b => b.TextContent.Trim() == "Fail").Click());

        layout.WaitForAssertion(() => Assert.Contains("Something went wrong on this page", layout.Find("[data-testid=page-error]").TextContent, StringComparison.Ordinal));
        Assert.DoesNotContain(layout.FindAll("p"), p => p.TextContent == "page content");
        Assert.NotNull(layout.Find("button[aria-label='Toggle dark mode']")); // the shell is still there

        await layout.InvokeAsync(() => layout.FindAll("button").Single(b => b.TextContent.Trim() == "Try again").Click());
        layout.WaitForAssertion(() => Assert.Single(layout.FindAll("p"), p => p.TextContent == "page content"));
        Assert.Empty(layout.FindAll("[data-testid=page-error]"));
    }

    private void SignIn(string userId, string email, string? displayName = null)
    {
        var auth = AddAuthorization();
        auth.SetAuthorized(email);
        auth.SetClaims(
            new Claim(ClaimTypes.NameIdentifier, userId),
            new Claim(T2IStudio.Web.Auth.StudioClaimsPrincipalFactory.DisplayNameClaim, displayName ?? email));
    }

    private IRenderedComponent<MainLayout> RenderLayout() =>
        Render<MainLayout>(p => p.Add(l => l.Body, (RenderFragment)(b => b.AddContent(0, "page body"))));

    private static bool IsDark(IRenderedComponent<MainLayout> layout) =>
        layout.FindComponent<MudThemeProvider>().Instance.GetState(x => x.IsDarkMode);
}
