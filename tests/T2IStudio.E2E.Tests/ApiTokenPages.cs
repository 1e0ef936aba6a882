using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace T2IStudio.E2E.Tests;

/// <summary>What a person does on Account → API tokens, by role and accessible name.</summary>
public static class ApiTokenPages
{
    /// <summary>Opens the page from the account menu of a signed-in, interactive page.</summary>
    public static async Task OpenFromAccountMenuAsync(IPage page, string displayName)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = displayName, Exact = true }).ClickAsync();
        await page.Locator(".mud-popover-open").GetByText("API tokens", new() { Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "API tokens", Exact = true, Level = 1 })).ToBeVisibleAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/account/api-tokens$"));
        await StudioPages.WaitForInteractiveAsync(page);
    }

    /// <summary>Fills "New token", presses "Create token" and returns the secret the page shows once.</summary>
    public static async Task<string> CreateAsync(IPage page, string name, string scope, string expires = "90 days")
    {
        await page.GetByRole(AriaRole.Textbox, new() { Name = "Token name", Exact = true }).FillAsync(name);
        await ChooseAsync(page, "Expires", expires);
        await ChooseAsync(page, "Scope", scope);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create token", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your new token", Exact = true, Level = 2 })).ToBeVisibleAsync();
        var secret = page.GetByRole(AriaRole.Textbox, new() { Name = "Your new token", Exact = true });
        await Assertions.Expect(secret).ToHaveValueAsync(new Regex(@"^t2i_\S{32,}$"));
        await Assertions.Expect(Row(page, name)).ToContainTextAsync("Active");
        return await secret.InputValueAsync();
    }

    /// <summary>The token's row in "Your API tokens".</summary>
    public static ILocator Row(IPage page, string name) =>
        page.GetByRole(AriaRole.Table, new() { Name = "Your API tokens", Exact = true }).GetByRole(AriaRole.Row).Filter(new()
        {
            // The Name cell reads "NAME t2i_PREFIX…".
            Has = page.Locator("td[data-label='Name']", new() { HasTextRegex = new Regex($"^\\s*{Regex.Escape(name)} ") }),
        });

    /// <summary>Picks <paramref name="option"/> in the MudSelect labelled <paramref name="label"/>.</summary>
    private static async Task ChooseAsync(IPage page, string label, string option)
    {
        await page.GetByLabel(label, new() { Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = option, Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Option)).ToHaveCountAsync(0);
    }
}
