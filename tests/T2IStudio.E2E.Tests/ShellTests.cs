using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace T2IStudio.E2E.Tests;

public sealed class ShellTests(StudioServer server) : IClassFixture<StudioServer>
{
    private const string LightBackground = "rgb(247, 247, 251)"; // StudioTheme PaletteLight.Background
    private const string DarkBackground = "rgb(16, 16, 23)";     // StudioTheme PaletteDark.Background

    [Fact]
    public async Task Register_see_the_shell_toggle_the_theme_sign_out_and_sign_in_again()
    {
        var page = await server.NewPageAsync();

        // Anonymous: the app sends us to sign in; from there, register.
        await page.GotoAsync("/");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/Account/Login\\?ReturnUrl=%2F$"));
        await page.GetByRole(AriaRole.Link, new() { Name = "Register", Exact = true }).ClickAsync();
        // Enhanced navigation patches the DOM in place: type only once the register form is there.
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Create your account" })).ToBeVisibleAsync();
        await page.GetByLabel("Email", new() { Exact = true }).FillAsync("ada@example.test");
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(StudioPages.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Register", Exact = true }).ClickAsync();
        await StudioPages.WaitForInteractiveAsync(page);

        // The shell: product name, the navigation (Admin too: the first account is the admin), the account menu.
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Create", Level = 1 })).ToBeVisibleAsync();
        foreach (var link in new[] { "Create", "Gallery", "Inpaint", "Teams", "Admin" })
        {
            await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = link, Exact = true })).ToBeVisibleAsync();
        }
        var accountButton = page.GetByRole(AriaRole.Button, new() { Name = "ada", Exact = true });
        await Assertions.Expect(accountButton).ToBeVisibleAsync();
        Assert.Equal(LightBackground, await StudioPages.BodyBackgroundAsync(page));
        await StudioPages.ScreenshotAsync(page, "shell-light");

        // Theme: dark, and remembered across a reload.
        await page.GetByRole(AriaRole.Button, new() { Name = "Toggle dark mode" }).ClickAsync();
        await Assertions.Expect(page.Locator(".mud-layout")).ToHaveAttributeAsync("data-theme", "dark");
        Assert.Equal(DarkBackground, await StudioPages.BodyBackgroundAsync(page));
        await StudioPages.ScreenshotAsync(page, "shell-dark");
        await page.ReloadAsync();
        await StudioPages.WaitForInteractiveAsync(page);
        await Assertions.Expect(page.Locator(".mud-layout")).ToHaveAttributeAsync("data-theme", "dark");

        // Navigate inside the circuit to a page with its empty state.
        await page.GetByRole(AriaRole.Link, new() { Name = "Gallery", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByText("No images yet — create one")).ToBeVisibleAsync();

        // Sign out from the account menu.
        await accountButton.ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/Account/Login\\?status=signedout"));
        await Assertions.Expect(page.GetByText("You are signed out.")).ToBeVisibleAsync();
        await page.GotoAsync("/gallery");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/Account/Login\\?ReturnUrl=%2Fgallery$"));

        // Sign in again, straight back to where we were going.
        await page.GetByLabel("Email", new() { Exact = true }).FillAsync("ada@example.test");
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(StudioPages.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await StudioPages.WaitForInteractiveAsync(page);
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/gallery$"));
        await Assertions.Expect(page.Locator(".mud-layout")).ToHaveAttributeAsync("data-theme", "dark");
    }
}
