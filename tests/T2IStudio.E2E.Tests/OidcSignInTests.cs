using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Auth;

namespace T2IStudio.E2E.Tests;

/// <summary>
/// The company sign-in in Chromium against a real OpenID provider on loopback (the npm package oidc-provider):
/// its login and consent pages, the way back signed in, linking and unlinking from the account page, signing out
/// here and there, and the refusals (a domain outside the allowed ones, a tampered state, a disabled account,
/// denied consent). Each test uses its own provider account and browser context.
/// </summary>
public sealed partial class OidcSignInTests(OidcStudioServer server) : IClassFixture<OidcStudioServer>
{
    private const string Button = "Sign in with " + OidcStudioServer.DisplayName;

    [Fact]
    public async Task A_new_person_signs_in_through_the_provider_comes_back_signed_in_and_signs_out_there_too()
    {
        var page = await server.NewPageAsync();
        await StartSignInAsync(page);
        await ProviderSignInAsync(page, "alice@example.test");
        await ConsentAsync(page);

        // Back in the studio, with a new account named as the provider names the person.
        await StudioPages.WaitForInteractiveAsync(page);
        var account = page.GetByRole(AriaRole.Button, new() { Name = "Alice Provider", Exact = true });
        await Assertions.Expect(account).ToBeVisibleAsync();
        await StudioPages.ScreenshotAsync(page, "oidc-signed-in");

        // The account page shows the link; with no password, unlinking would lock the person out, so it is not offered.
        await page.GotoAsync("/Account/Manage");
        await Assertions.Expect(page.GetByTestId("external-login-state")).ToHaveTextAsync("Example SSO: linked as alice@example.test");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Unlink Example SSO" })).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByText("This account has no password, so Example SSO is its only way in")).ToBeVisibleAsync();
        await StudioPages.ScreenshotAsync(page, "oidc-account-page");

        // Signing out here also signs out at the provider (it asks), and comes back to the sign-in page.
        await page.GotoAsync("/");
        await StudioPages.WaitForInteractiveAsync(page);
        await account.ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Yes, sign me out" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/Account/Login\\?status=signedout"));
        await Assertions.Expect(page.GetByText("You are signed out.")).ToBeVisibleAsync();

        // The provider's session is gone too: signing in again asks for the provider's password.
        await page.GetByRole(AriaRole.Button, new() { Name = Button }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Test provider sign-in" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_password_account_links_its_company_login_from_the_account_page_and_unlinks_it()
    {
        var page = await server.NewPageAsync();
        await StudioPages.RegisterAsync(page, "bob@example.test");
        var account = page.GetByRole(AriaRole.Button, new() { Name = "bob", Exact = true });
        await account.ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/Account/Login\\?status=signedout"));

        // The same email, but this account's email was never confirmed here: no automatic link (takeover defence).
        await StartSignInAsync(page);
        await ProviderSignInAsync(page, "bob@example.test");
        await ConsentAsync(page);
        await Assertions.Expect(page.GetByRole(AriaRole.Alert))
            .ToHaveTextAsync("An account with this email exists here. Sign in with your password, then link Example SSO on your account page.");

        // Signed in with the password, the person links the provider account on the account page.
        await StudioPages.SignInAsync(page, "bob@example.test");
        await page.GotoAsync("/Account/Manage");
        await Assertions.Expect(page.GetByTestId("external-login-state")).ToHaveTextAsync("Example SSO: not linked");
        await page.GetByRole(AriaRole.Button, new() { Name = "Link Example SSO" }).ClickAsync();
        // The provider still knows bob (signed in there a moment ago), so it answers at once.
        await Assertions.Expect(page.GetByText("Example SSO is linked: you can sign in with it.")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("external-login-state")).ToHaveTextAsync("Example SSO: linked as bob@example.test");
        await StudioPages.ScreenshotAsync(page, "oidc-linked");

        // Now the company sign-in opens this account.
        await page.GotoAsync("/");
        await StudioPages.WaitForInteractiveAsync(page);
        await account.ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/Account/Login\\?status=signedout"));
        await page.GetByRole(AriaRole.Button, new() { Name = Button }).ClickAsync();
        await StudioPages.WaitForInteractiveAsync(page);
        await Assertions.Expect(account).ToBeVisibleAsync();

        // It has a password, so it can unlink; afterwards the company sign-in no longer opens it.
        await page.GotoAsync("/Account/Manage");
        await page.GetByRole(AriaRole.Button, new() { Name = "Unlink Example SSO" }).ClickAsync();
        await Assertions.Expect(page.GetByText("Example SSO is unlinked.")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("external-login-state")).ToHaveTextAsync("Example SSO: not linked");
        using var scope = server.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        Assert.Empty(await users.GetLoginsAsync((await users.FindByEmailAsync("bob@example.test"))!));
    }

    [Fact]
    public async Task Someone_whose_email_is_outside_the_allowed_domains_is_refused_with_a_message()
    {
        var page = await server.NewPageAsync();
        await StartSignInAsync(page);
        await ProviderSignInAsync(page, "mallory@elsewhere.test");
        await ConsentAsync(page);
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/Account/Login\\?status=external-domain-not-allowed"));
        await Assertions.Expect(page.GetByRole(AriaRole.Alert))
            .ToHaveTextAsync("Your Example SSO account's email is not in an allowed domain for this studio (example.test).");
        await StudioPages.ScreenshotAsync(page, "oidc-domain-refused");
        await AssertNoAccountAsync("mallory@elsewhere.test");
        await page.GotoAsync("/gallery");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/Account/Login\\?ReturnUrl=%2Fgallery$"));
    }

    [Fact]
    public async Task A_tampered_state_is_refused_and_the_genuine_answer_signs_in_once()
    {
        var page = await server.NewPageAsync();
        await StartSignInAsync(page);
        await ProviderSignInAsync(page, "carol@example.test");

        // Consent without following the redirects (the context's request API shares the browser's cookies), to
        // hold the provider's answer: /signin-oidc?code=…&state=…
        var callback = await ProviderAnswerAsync(page);
        var state = StateParameter().Match(callback);
        Assert.True(state.Success, callback);
        var tampered = callback.Replace(state.Value, "state=" + Uri.EscapeDataString(Flip(Uri.UnescapeDataString(state.Groups[1].Value))), StringComparison.Ordinal);

        await page.GotoAsync(tampered);
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/Account/Login\\?status=external-failed"));
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Signing in with Example SSO did not complete");
        await AssertNoAccountAsync("carol@example.test");

        // The untouched answer still works in this browser, once; a replay of it is refused.
        await page.GotoAsync(callback);
        await StudioPages.WaitForInteractiveAsync(page);
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Carol Provider", Exact = true })).ToBeVisibleAsync();
        await page.GotoAsync(callback);
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/Account/Login\\?status=external-failed"));
    }

    [Fact]
    public async Task A_disabled_account_stays_out_whatever_the_provider_says()
    {
        // Arranged: dana's account is linked to her provider account, and an administrator disabled it.
        using (var scope = server.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            var dana = new AppUser { UserName = "dana@example.test", Email = "dana@example.test", EmailConfirmed = true, DisplayName = "dana", CreatedAt = DateTimeOffset.UtcNow, IsDisabled = true };
            Assert.True((await users.CreateAsync(dana, StudioPages.Password)).Succeeded);
            Assert.True((await users.AddLoginAsync(dana, new UserLoginInfo(OidcOptions.Scheme, "dana@example.test", "dana@example.test"))).Succeeded);
        }
        var page = await server.NewPageAsync();
        await StartSignInAsync(page);
        await ProviderSignInAsync(page, "dana@example.test");
        await ConsentAsync(page);
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/Account/Login\\?status=external-disabled"));
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("This account has been disabled by an administrator.");
        await page.GotoAsync("/");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/Account/Login\\?ReturnUrl=%2F$"));
    }

    [Fact]
    public async Task Denying_access_at_the_provider_leaves_the_person_signed_out_with_a_message()
    {
        var page = await server.NewPageAsync();
        await StartSignInAsync(page);
        await ProviderSignInAsync(page, "erin@example.test");
        await page.GetByRole(AriaRole.Button, new() { Name = "Deny" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/Account/Login\\?status=external-denied"));
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("You did not allow T2I Studio access at Example SSO, so you are not signed in.");
        await AssertNoAccountAsync("erin@example.test");
    }

    private static async Task StartSignInAsync(IPage page)
    {
        await page.GotoAsync("/Account/Login");
        await page.GetByRole(AriaRole.Button, new() { Name = Button }).ClickAsync();
    }

    private static async Task ProviderSignInAsync(IPage page, string email)
    {
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Test provider sign-in" })).ToBeVisibleAsync();
        await page.GetByLabel("Email", new() { Exact = true }).FillAsync(email);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(OidcProviderProcess.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in to the provider" }).ClickAsync();
    }

    private static async Task ConsentAsync(IPage page)
    {
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Allow access" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Allow" }).ClickAsync();
    }

    // Posts the consent form and follows the provider's own redirects by hand, stopping at the app's callback.
    private async Task<string> ProviderAnswerAsync(IPage page)
    {
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Allow access" })).ToBeVisibleAsync();
        var action = await page.Locator("form[action$='/confirm']").GetAttributeAsync("action");
        var next = new Uri(new Uri(server.Provider.Issuer), action).ToString();
        var method = "POST";
        for (var hop = 0; hop < 5; hop++)
        {
            var response = await page.Context.APIRequest.FetchAsync(next, new() { Method = method, MaxRedirects = 0 });
            var location = response.Headers.GetValueOrDefault("location");
            Assert.False(string.IsNullOrEmpty(location), $"{method} {next} answered {response.Status} without a redirect: {await response.TextAsync()}");
            next = new Uri(new Uri(next), location).ToString();
            if (next.StartsWith(server.BaseUrl + "/signin-oidc", StringComparison.Ordinal))
            {
                return next;
            }
            method = "GET";
        }
        throw new InvalidOperationException("The provider never redirected to the app's callback; last address: " + next);
    }

    private async Task AssertNoAccountAsync(string email)
    {
        using var scope = server.Services.CreateScope();
        Assert.Null(await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(email));
    }

    // Changes one character of the state in the middle, keeping it the same length and alphabet.
    private static string Flip(string state)
    {
        var chars = state.ToCharArray();
        var i = chars.Length / 2;
        chars[i] = chars[i] == 'A' ? 'B' : 'A';
        return new string(chars);
    }

    [GeneratedRegex("state=([^&]+)")]
    private static partial Regex StateParameter();
}
