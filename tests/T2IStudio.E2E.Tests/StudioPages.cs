using Microsoft.Playwright;

namespace T2IStudio.E2E.Tests;

/// <summary>What a person does on the account pages and the shell, by role and accessible name.</summary>
public static class StudioPages
{
    public const string Password = "Correct-horse-9";

    /// <summary>Waits until the circuit is connected and the shell answers clicks (no sleeping).</summary>
    public static async Task WaitForInteractiveAsync(IPage page)
    {
        try
        {
            await page.Locator(".mud-layout[data-interactive='true']").WaitForAsync();
        }
        catch (TimeoutException)
        {
            var name = "not-interactive-" + Guid.NewGuid().ToString("N")[..8];
            await ScreenshotAsync(page, name);
            throw new TimeoutException($"The page at {page.Url} never became interactive; see artifacts/screenshots/{name}.png");
        }
    }

    public static async Task RegisterAsync(IPage page, string email, string password = Password)
    {
        await page.GotoAsync("/Account/Register");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Create your account" })).ToBeVisibleAsync();
        await page.GetByLabel("Email", new() { Exact = true }).FillAsync(email);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Register", Exact = true }).ClickAsync();
        await WaitForInteractiveAsync(page);
    }

    public static async Task SignInAsync(IPage page, string email, string password = Password)
    {
        await page.GotoAsync("/Account/Login");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await page.GetByLabel("Email", new() { Exact = true }).FillAsync(email);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await WaitForInteractiveAsync(page);
    }

    public static Task<string> BodyBackgroundAsync(IPage page) =>
        page.EvaluateAsync<string>("() => getComputedStyle(document.body).backgroundColor");

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(StudioServer.ScreenshotDirectory, name + ".png"), FullPage = true });
}
