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

    public static Task RegisterAsync(IPage page, string email, string password = Password) =>
        SubmitAccountFormAsync(page, "/Account/Register", "Create your account", "Register", email, password);

    public static Task SignInAsync(IPage page, string email, string password = Password) =>
        SubmitAccountFormAsync(page, "/Account/Login", "Sign in", "Sign in", email, password);

    private static async Task SubmitAccountFormAsync(IPage page, string path, string heading, string button, string email, string password)
    {
        await page.GotoAsync(path);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = heading })).ToBeVisibleAsync();
        await page.GetByLabel("Email", new() { Exact = true }).FillAsync(email);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = button, Exact = true }).ClickAsync();
        await WaitForInteractiveAsync(page);
    }

    public static Task<string> BodyBackgroundAsync(IPage page) =>
        page.EvaluateAsync<string>("() => getComputedStyle(document.body).backgroundColor");

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(StudioServer.ScreenshotDirectory, name + ".png"), FullPage = true });
}
