using System.Text.RegularExpressions;
using Microsoft.Playwright;
using T2IStudio.Testing;

namespace T2IStudio.E2E.Tests;

/// <summary>
/// Two-factor authentication in Chromium: enrol from the account page with a code computed from the key the page
/// shows, then sign in with password and code, and with a recovery code.
/// </summary>
public sealed class TwoFactorTests(StudioServer server) : IClassFixture<StudioServer>
{
    private const string Email = "twofa@example.test";

    [Fact]
    public async Task Enrol_from_the_account_page_then_sign_in_with_password_and_code_and_with_a_recovery_code()
    {
        var page = await server.NewPageAsync();
        var policyViolations = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                policyViolations.Add(message.Text);
            }
        };
        await StudioPages.RegisterAsync(page, Email);

        await page.GotoAsync("/Account/Manage");
        await page.GetByRole(AriaRole.Link, new() { Name = "Two-factor authentication", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Two-factor authentication" })).ToBeVisibleAsync();
        var qr = page.GetByRole(AriaRole.Img, new() { Name = "QR code for your authenticator app (it holds the key shown below)" });
        await Assertions.Expect(qr).ToBeVisibleAsync();
        Assert.True(await qr.EvaluateAsync<bool>("img => img.complete && img.naturalWidth > 100"), "The QR code did not load");
        var key = (await page.GetByTestId("authenticator-key").TextContentAsync())!.Trim();
        Assert.Matches("^([a-z2-7]{4} )+[a-z2-7]{1,4}$", key);
        await StudioPages.ScreenshotAsync(page, "two-factor-enrol");

        var authenticator = new TwoFactorAuthenticator(key);
        await page.GetByLabel("Verification code", new() { Exact = true }).FillAsync(authenticator.NextCode());
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify code", Exact = true }).ClickAsync();
        var list = page.GetByRole(AriaRole.List, new() { Name = "Recovery codes" });
        await Assertions.Expect(list.GetByRole(AriaRole.Listitem)).ToHaveCountAsync(10);
        var recoveryCodes = (await list.GetByRole(AriaRole.Listitem).AllTextContentsAsync()).Select(code => code.Trim()).ToList();
        await StudioPages.ScreenshotAsync(page, "two-factor-recovery-codes");
        await page.GetByRole(AriaRole.Link, new() { Name = "I have saved them: continue" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("two-factor-status")).ToHaveTextAsync("On");
        await Assertions.Expect(page.GetByTestId("recovery-codes-left")).ToHaveTextAsync("10");
        await Assertions.Expect(list).ToHaveCountAsync(0); // shown once

        // Password, then the code from the app.
        await SignOutAsync(page);
        await PasswordAsync(page);
        await page.GetByLabel("Authentication code", new() { Exact = true }).FillAsync(authenticator.NextCode());
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await StudioPages.WaitForInteractiveAsync(page);
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/$"));

        // Password, then a recovery code instead.
        await SignOutAsync(page);
        await PasswordAsync(page);
        await page.GetByRole(AriaRole.Link, new() { Name = "Use a recovery code" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in with a recovery code" })).ToBeVisibleAsync();
        await page.GetByLabel("Recovery code", new() { Exact = true }).FillAsync(recoveryCodes[0]);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await StudioPages.WaitForInteractiveAsync(page);
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/$"));

        // The account menu leads to the page too; one recovery code is used up.
        await page.GetByRole(AriaRole.Button, new() { Name = "twofa", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Menuitem, new() { Name = "Two-factor authentication" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("recovery-codes-left")).ToHaveTextAsync("9");
        Assert.True(policyViolations.Count == 0, string.Join(Environment.NewLine, policyViolations));
    }

    private static async Task SignOutAsync(IPage page)
    {
        await page.GotoAsync("/");
        await StudioPages.WaitForInteractiveAsync(page);
        await page.GetByRole(AriaRole.Button, new() { Name = "twofa", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Assertions.Expect(page.GetByText("You are signed out.")).ToBeVisibleAsync();
    }

    private static async Task PasswordAsync(IPage page)
    {
        await page.GetByLabel("Email", new() { Exact = true }).FillAsync(Email);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(StudioPages.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Two-factor sign-in" })).ToBeVisibleAsync();
    }
}

/// <summary>A server with <c>Accounts:RequireTwoFactor=true</c>.</summary>
public sealed class TwoFactorRequiredServer : StudioServer
{
    protected override IEnumerable<KeyValuePair<string, string?>> Settings(string baseUrl) =>
        [new("Accounts:RequireTwoFactor", "true")];
}

/// <summary>With two-factor required, a new account is taken to enrol before it sees the app, and reaches it after.</summary>
public sealed class TwoFactorRequiredTests(TwoFactorRequiredServer server) : IClassFixture<TwoFactorRequiredServer>
{
    [Fact]
    public async Task A_new_account_enrols_before_it_sees_the_app_and_reaches_it_after()
    {
        var page = await server.NewPageAsync();
        await page.GotoAsync("/Account/Register");
        await page.GetByLabel("Email", new() { Exact = true }).FillAsync("required@example.test");
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(StudioPages.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Register", Exact = true }).ClickAsync();

        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/Account/Manage/TwoFactor\\?required=1$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Your administrator requires two-factor authentication" })).ToBeVisibleAsync();
        await StudioPages.ScreenshotAsync(page, "two-factor-required");
        await page.GotoAsync("/gallery");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/Account/Manage/TwoFactor\\?required=1$"));

        var authenticator = new TwoFactorAuthenticator((await page.GetByTestId("authenticator-key").TextContentAsync())!.Trim());
        await page.GetByLabel("Verification code", new() { Exact = true }).FillAsync(authenticator.NextCode());
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify code", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.List, new() { Name = "Recovery codes" }).GetByRole(AriaRole.Listitem)).ToHaveCountAsync(10);
        await page.GetByRole(AriaRole.Link, new() { Name = "I have saved them: continue" }).ClickAsync();
        await StudioPages.WaitForInteractiveAsync(page);
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/$"));
    }
}
