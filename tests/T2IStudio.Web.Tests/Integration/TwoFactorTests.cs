using System.Net;
using System.Security.Claims;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Testing;
using T2IStudio.Web.Auth;
using T2IStudio.Web.Auth.TwoFactor;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>Drives the two-factor pages over HTTP as a browser posts them.</summary>
internal static partial class TwoFactorPages
{
    public const string EnrolPath = "/Account/Manage/TwoFactor";
    public const string LockedOut = "Too many failed sign-ins: this account is locked for 15 minutes.";
    public const string WrongCode = "That code is not right, or it has been used already: enter the code your app shows now.";
    public const string WrongRecoveryCode = "That recovery code is not right, or it has been used already.";

    /// <summary>A client signed in by password (no second factor asked: the account has none yet).</summary>
    public static async Task<HttpClient> SignedInAsync(StudioAppFactory app, string email)
    {
        var client = app.CreateBrowserlikeClient();
        var response = await TestAccounts.SignInAsync(client, email, TestAccounts.Password);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", TwoFactorPages.Target(response));
        return client;
    }

    /// <summary>Opens the enrolment page, reads the key it shows, and verifies a code from it: the authenticator and the ten recovery codes.</summary>
    public static async Task<(TwoFactorAuthenticator Authenticator, IReadOnlyList<string> RecoveryCodes)> EnrolAsync(HttpClient client)
    {
        var page = await (await client.GetAsync(new Uri(EnrolPath, UriKind.Relative))).Content.ReadAsStringAsync();
        var authenticator = new TwoFactorAuthenticator(ShownKey(page));
        var response = await VerifyAsync(client, authenticator.NextCode());
        var html = await response.Content.ReadAsStringAsync();
        var codes = RecoveryCodes(html);
        Assert.Equal(10, codes.Count);
        return (authenticator, codes);
    }

    public static Task<HttpResponseMessage> VerifyAsync(HttpClient client, string code) =>
        TestAccounts.PostFormAsync(client, EnrolPath, "verify-authenticator", new Dictionary<string, string> { ["Input.Code"] = code });

    /// <summary>The key as the page shows it (groups of four).</summary>
    public static string ShownKey(string html)
    {
        var match = Key().Match(html);
        Assert.True(match.Success, "The enrolment page shows no key");
        return WebUtility.HtmlDecode(match.Groups[1].Value).Trim();
    }

    public static IReadOnlyList<string> RecoveryCodes(string html) =>
        RecoveryCode().Matches(html).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value).Trim()).ToList();

    public static string? Fact(string html, string testId)
    {
        var match = Regex.Match(html, $"data-testid=\"{testId}\"[^>]*>([^<]*)<");
        return match.Success ? match.Groups[1].Value.Trim() : null;
    }

    /// <summary>Password, then the two-factor page: the response to the second step (or to the first, when it did not ask).</summary>
    public static async Task<HttpResponseMessage> SignInWithCodeAsync(HttpClient client, string email, Func<string> code, string form = "login-2fa")
    {
        var password = await TestAccounts.SignInAsync(client, email, TestAccounts.Password);
        Assert.Equal(HttpStatusCode.Redirect, password.StatusCode);
        var next = TwoFactorPages.Target(password);
        Assert.StartsWith("/Account/LoginWith2fa?", next, StringComparison.Ordinal);
        return await SecondStepAsync(client, next, code(), form);
    }

    /// <summary>Posts the code (form "login-2fa") or a recovery code (form "login-recovery-code") on the second step.</summary>
    public static Task<HttpResponseMessage> SecondStepAsync(HttpClient client, string twoFactorPath, string code, string form = "login-2fa", bool rememberBrowser = false) =>
        form == "login-2fa"
            ? TestAccounts.PostFormAsync(client, twoFactorPath, form, new Dictionary<string, string> { ["Input.Code"] = code, ["Input.RememberBrowser"] = rememberBrowser ? "true" : "false" })
            : TestAccounts.PostFormAsync(client, twoFactorPath.Replace("/Account/LoginWith2fa", "/Account/LoginWithRecoveryCode", StringComparison.Ordinal), form,
                new Dictionary<string, string> { ["Input.RecoveryCode"] = code });

    /// <summary>Where a redirect points, as a local path and query (pages redirect with absolute addresses).</summary>
    public static string Target(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        return location.IsAbsoluteUri ? location.PathAndQuery : location.OriginalString;
    }

    public static async Task<string> BannerAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Assert.Single(TestAccounts.Banners(await response.Content.ReadAsStringAsync()));
    }

    [GeneratedRegex("data-testid=\"authenticator-key\"[^>]*>([^<]+)</code>")]
    private static partial Regex Key();

    [GeneratedRegex("data-testid=\"recovery-code\"[^>]*>([^<]+)</code>")]
    private static partial Regex RecoveryCode();
}

/// <summary>An app whose sign-in rate limit leaves room for the many sign-ins these tests make from one address.</summary>
public sealed class TwoFactorAppFixture : StudioAppFixture
{
    public TwoFactorAppFixture()
        : base(new StudioAppFactory(settings: new Dictionary<string, string?> { ["RateLimits:SignInPerMinutePerAddress"] = "1000" }))
    {
    }
}

/// <summary>Enrolment, sign-in with a code or a recovery code, lockout, replay, and turning it off.</summary>
public sealed class TwoFactorTests(TwoFactorAppFixture app) : IClassFixture<TwoFactorAppFixture>
{
    [Fact]
    public async Task Enrolling_with_a_code_computed_from_the_shown_key_makes_sign_in_ask_for_a_code_after_the_password()
    {
        const string email = "tf-enrol@example.test";
        await app.Factory.CreateUserAsync(email);
        using var client = await TwoFactorPages.SignedInAsync(app.Factory, email);

        var page = await (await client.GetAsync(new Uri(TwoFactorPages.EnrolPath, UriKind.Relative))).Content.ReadAsStringAsync();
        var shownKey = TwoFactorPages.ShownKey(page);
        Assert.Matches("^([a-z2-7]{4} )+[a-z2-7]{1,4}$", shownKey);
        Assert.Contains("src=\"data:image/png;base64,", page, StringComparison.Ordinal);
        Assert.Matches("<label for=\"verification-code\"[^>]*>Verification code</label>", page);
        Assert.Matches("<input [^>]*id=\"verification-code\"", page);
        Assert.Matches("<button type=\"submit\"[^>]*>Verify code</button>", page);
        var authenticator = new TwoFactorAuthenticator(shownKey);

        // A wrong code changes nothing.
        Assert.Equal("That code is not right. Check that your phone's clock is set automatically, and enter the code the app shows now.",
            await TwoFactorPages.BannerAsync(await TwoFactorPages.VerifyAsync(client, authenticator.WrongCode())));
        Assert.Equal(shownKey, TwoFactorPages.ShownKey(await (await client.GetAsync(new Uri(TwoFactorPages.EnrolPath, UriKind.Relative))).Content.ReadAsStringAsync()));

        var enrolled = await TwoFactorPages.VerifyAsync(client, authenticator.NextCode());
        var html = await enrolled.Content.ReadAsStringAsync();
        Assert.Equal(["Two-factor authentication is on. Other browsers are signed out within a minute."], TestAccounts.Banners(html));
        var codes = TwoFactorPages.RecoveryCodes(html);
        Assert.Equal(10, codes.Count);
        Assert.Equal(10, codes.Distinct().Count());

        // Shown once: the page no longer lists them, only how many are left; the database holds none of them.
        var later = await (await client.GetAsync(new Uri(TwoFactorPages.EnrolPath, UriKind.Relative))).Content.ReadAsStringAsync();
        Assert.Empty(TwoFactorPages.RecoveryCodes(later));
        Assert.Equal("On", TwoFactorPages.Fact(later, "two-factor-status"));
        Assert.Equal("10", TwoFactorPages.Fact(later, "recovery-codes-left"));
        await using (var db = await app.Factory.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync())
        {
            var stored = string.Join("|", await db.UserTokens.Select(t => t.Value).ToListAsync());
            Assert.All(codes, code =>
            {
                Assert.DoesNotContain(code, stored, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain(code.Replace("-", "", StringComparison.Ordinal), stored, StringComparison.OrdinalIgnoreCase);
            });
        }

        // A new browser: the right password alone does not sign in; the code does.
        using var other = app.Factory.CreateBrowserlikeClient();
        var password = await TestAccounts.SignInAsync(other, email, TestAccounts.Password);
        Assert.Equal("/Account/LoginWith2fa?ReturnUrl=%2F&RememberMe=False", TwoFactorPages.Target(password));
        Assert.Equal(HttpStatusCode.Redirect, (await other.GetAsync(new Uri("/", UriKind.Relative))).StatusCode);
        var second = await TwoFactorPages.SecondStepAsync(other, TwoFactorPages.Target(password), authenticator.NextCode());
        Assert.Equal(HttpStatusCode.Redirect, second.StatusCode);
        Assert.Equal("/", TwoFactorPages.Target(second));
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync(new Uri("/", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task An_authenticator_code_signs_in_once_and_a_second_use_is_refused()
    {
        const string email = "tf-replay@example.test";
        await app.Factory.CreateUserAsync(email);
        var (authenticator, _) = await TwoFactorPages.EnrolAsync(await TwoFactorPages.SignedInAsync(app.Factory, email));

        using var first = app.Factory.CreateBrowserlikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await TwoFactorPages.SignInWithCodeAsync(first, email, authenticator.NextCode)).StatusCode);

        // The same code again (still inside its time window): refused.
        using var second = app.Factory.CreateBrowserlikeClient();
        Assert.Equal(TwoFactorPages.WrongCode, await TwoFactorPages.BannerAsync(await TwoFactorPages.SignInWithCodeAsync(second, email, () => authenticator.LastCode)));
        var again = await TwoFactorPages.SecondStepAsync(second, "/Account/LoginWith2fa?ReturnUrl=%2F", authenticator.NextCode());
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
        Assert.Equal("/", TwoFactorPages.Target(again));
    }

    [Fact]
    public async Task A_recovery_code_signs_in_once_in_any_case_and_spacing()
    {
        const string email = "tf-recovery@example.test";
        await app.Factory.CreateUserAsync(email);
        using var owner = await TwoFactorPages.SignedInAsync(app.Factory, email);
        var (_, codes) = await TwoFactorPages.EnrolAsync(owner);

        using var first = app.Factory.CreateBrowserlikeClient();
        var typed = " " + codes[3].ToLowerInvariant().Replace("-", " ", StringComparison.Ordinal) + " ";
        var signedIn = await TwoFactorPages.SignInWithCodeAsync(first, email, () => typed, "login-recovery-code");
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/", TwoFactorPages.Target(signedIn));
        Assert.Equal(HttpStatusCode.OK, (await first.GetAsync(new Uri("/", UriKind.Relative))).StatusCode);

        using var second = app.Factory.CreateBrowserlikeClient();
        Assert.Equal(TwoFactorPages.WrongRecoveryCode, await TwoFactorPages.BannerAsync(await TwoFactorPages.SignInWithCodeAsync(second, email, () => codes[3], "login-recovery-code")));
        var page = await (await owner.GetAsync(new Uri(TwoFactorPages.EnrolPath, UriKind.Relative))).Content.ReadAsStringAsync();
        Assert.Equal("9", TwoFactorPages.Fact(page, "recovery-codes-left"));
    }

    [Fact]
    public async Task Five_wrong_codes_lock_the_account_and_then_neither_the_right_code_nor_a_recovery_code_signs_in()
    {
        const string email = "tf-lockout@example.test";
        await app.Factory.CreateUserAsync(email);
        using var owner = await TwoFactorPages.SignedInAsync(app.Factory, email);
        var (authenticator, codes) = await TwoFactorPages.EnrolAsync(owner);

        using var client = app.Factory.CreateBrowserlikeClient();
        var password = await TestAccounts.SignInAsync(client, email, TestAccounts.Password);
        var step = TwoFactorPages.Target(password);
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            var message = await TwoFactorPages.BannerAsync(await TwoFactorPages.SecondStepAsync(client, step, authenticator.WrongCode()));
            Assert.Equal(attempt < 5 ? TwoFactorPages.WrongCode : TwoFactorPages.LockedOut, message);
        }

        Assert.Equal(TwoFactorPages.LockedOut, await TwoFactorPages.BannerAsync(await TwoFactorPages.SecondStepAsync(client, step, authenticator.NextCode())));
        Assert.Equal(TwoFactorPages.LockedOut, await TwoFactorPages.BannerAsync(await TwoFactorPages.SecondStepAsync(client, step, codes[0], "login-recovery-code")));
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync(new Uri("/", UriKind.Relative))).StatusCode);
        // The password step says so too, and the refused recovery code was not used up.
        Assert.Equal(TwoFactorPages.LockedOut, await TwoFactorPages.BannerAsync(await TestAccounts.SignInAsync(app.Factory.CreateBrowserlikeClient(), email, TestAccounts.Password)));
        using var scope = app.Factory.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        Assert.Equal(10, await users.CountRecoveryCodesAsync((await users.FindByEmailAsync(email))!));
    }

    [Fact]
    public async Task Wrong_recovery_codes_count_towards_lockout()
    {
        const string email = "tf-recovery-lockout@example.test";
        await app.Factory.CreateUserAsync(email);
        var (_, codes) = await TwoFactorPages.EnrolAsync(await TwoFactorPages.SignedInAsync(app.Factory, email));

        using var client = app.Factory.CreateBrowserlikeClient();
        var step = TwoFactorPages.Target(await TestAccounts.SignInAsync(client, email, TestAccounts.Password));
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            var message = await TwoFactorPages.BannerAsync(await TwoFactorPages.SecondStepAsync(client, step, $"WRONG-{attempt}0000", "login-recovery-code"));
            Assert.Equal(attempt < 5 ? TwoFactorPages.WrongRecoveryCode : TwoFactorPages.LockedOut, message);
        }
        Assert.Equal(TwoFactorPages.LockedOut, await TwoFactorPages.BannerAsync(await TwoFactorPages.SecondStepAsync(client, step, codes[1], "login-recovery-code")));
    }

    [Fact]
    public async Task An_account_disabled_between_the_password_and_the_code_stays_out()
    {
        var admin = await app.Factory.CreateUserAsync("tf-admin@example.test");
        const string email = "tf-disabled@example.test";
        var user = await app.Factory.CreateUserAsync(email);
        var (authenticator, codes) = await TwoFactorPages.EnrolAsync(await TwoFactorPages.SignedInAsync(app.Factory, email));

        using var client = app.Factory.CreateBrowserlikeClient();
        var step = TwoFactorPages.Target(await TestAccounts.SignInAsync(client, email, TestAccounts.Password));
        using (var scope = app.Factory.Services.CreateScope())
        {
            Assert.True((await scope.ServiceProvider.GetRequiredService<AccountAdministration>().SetDisabledAsync(admin.Id, user.Id, disabled: true)).Succeeded);
        }

        const string disabled = "This account has been disabled by an administrator.";
        Assert.Equal(disabled, await TwoFactorPages.BannerAsync(await TwoFactorPages.SecondStepAsync(client, step, authenticator.NextCode())));
        Assert.Equal(disabled, await TwoFactorPages.BannerAsync(await TwoFactorPages.SecondStepAsync(client, step, codes[0], "login-recovery-code")));
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync(new Uri("/", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Remember_this_browser_skips_the_code_at_the_next_sign_in_in_that_browser_only()
    {
        const string email = "tf-remember@example.test";
        await app.Factory.CreateUserAsync(email);
        var (authenticator, _) = await TwoFactorPages.EnrolAsync(await TwoFactorPages.SignedInAsync(app.Factory, email));

        using var client = app.Factory.CreateBrowserlikeClient();
        var step = TwoFactorPages.Target(await TestAccounts.SignInAsync(client, email, TestAccounts.Password));
        Assert.Equal("/", TwoFactorPages.Target(await TwoFactorPages.SecondStepAsync(client, step, authenticator.NextCode(), rememberBrowser: true)));
        await TestAccounts.PostWithoutFormAsync(client, "/Account/Logout", "", new Dictionary<string, string> { ["ReturnUrl"] = "/" });
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync(new Uri("/", UriKind.Relative))).StatusCode);

        Assert.Equal("/", TwoFactorPages.Target(await TestAccounts.SignInAsync(client, email, TestAccounts.Password)));
        using var other = app.Factory.CreateBrowserlikeClient();
        Assert.StartsWith("/Account/LoginWith2fa?", TwoFactorPages.Target(await TestAccounts.SignInAsync(other, email, TestAccounts.Password)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_second_step_without_a_right_password_first_says_to_sign_in_again()
    {
        using var client = app.Factory.CreateBrowserlikeClient();
        foreach (var path in new[] { "/Account/LoginWith2fa", "/Account/LoginWithRecoveryCode" })
        {
            var html = await (await client.GetAsync(new Uri(path, UriKind.Relative))).Content.ReadAsStringAsync();
            Assert.Equal(["Your sign-in has timed out, or it did not start here: sign in again with your password."], TestAccounts.Banners(html));
            Assert.Contains("href=\"/Account/Login?ReturnUrl=%2F\"", html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task New_recovery_codes_replace_the_old_ones()
    {
        const string email = "tf-reset-codes@example.test";
        await app.Factory.CreateUserAsync(email);
        using var owner = await TwoFactorPages.SignedInAsync(app.Factory, email);
        var (_, old) = await TwoFactorPages.EnrolAsync(owner);

        var reset = await TestAccounts.PostFormAsync(owner, TwoFactorPages.EnrolPath, "reset-recovery-codes", new Dictionary<string, string>());
        var fresh = TwoFactorPages.RecoveryCodes(await reset.Content.ReadAsStringAsync());
        Assert.Equal(10, fresh.Count);
        Assert.Empty(fresh.Intersect(old));

        using var client = app.Factory.CreateBrowserlikeClient();
        Assert.Equal(TwoFactorPages.WrongRecoveryCode, await TwoFactorPages.BannerAsync(await TwoFactorPages.SignInWithCodeAsync(client, email, () => old[0], "login-recovery-code")));
        Assert.Equal(HttpStatusCode.Redirect, (await TwoFactorPages.SecondStepAsync(client, "/Account/LoginWith2fa?ReturnUrl=%2F", fresh[0], "login-recovery-code")).StatusCode);
    }

    [Fact]
    public async Task Disabling_turns_the_second_step_off_and_forgets_the_key()
    {
        const string email = "tf-disable@example.test";
        await app.Factory.CreateUserAsync(email);
        using var owner = await TwoFactorPages.SignedInAsync(app.Factory, email);
        var before = TwoFactorPages.ShownKey(await (await owner.GetAsync(new Uri(TwoFactorPages.EnrolPath, UriKind.Relative))).Content.ReadAsStringAsync());
        await TwoFactorPages.EnrolAsync(owner);

        var disabled = await TestAccounts.PostFormAsync(owner, TwoFactorPages.EnrolPath, "disable-2fa", new Dictionary<string, string>());
        var html = await disabled.Content.ReadAsStringAsync();
        Assert.Equal(["Two-factor authentication is off."], TestAccounts.Banners(html));
        Assert.NotEqual(before, TwoFactorPages.ShownKey(html)); // enrolling again starts with a new key
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync(new Uri("/", UriKind.Relative))).StatusCode);

        using var client = app.Factory.CreateBrowserlikeClient();
        var password = await TestAccounts.SignInAsync(client, email, TestAccounts.Password);
        Assert.Equal("/", TwoFactorPages.Target(password));
        using var scope = app.Factory.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        Assert.Equal(0, await users.CountRecoveryCodesAsync((await users.FindByEmailAsync(email))!));
    }

    [Fact]
    public void The_apps_codes_match_RFC_6238s_test_vector_and_the_tests_own_authenticator()
    {
        // RFC 6238 appendix B, SHA-1: key "12345678901234567890", T = 59 s → 94287082 (8 digits), so 287082 in 6.
        var key = "12345678901234567890"u8.ToArray();
        Assert.Equal("94287082", TwoFactorAuthenticator.Code(key, 59 / 30, 8));
        Assert.Equal(287_082, Totp.Code(key, 59 / 30));
        Assert.Equal(key, Totp.DecodeBase32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"));
        Assert.Equal(key, TwoFactorAuthenticator.DecodeBase32("gezd gnbv gy3t qojq gezd gnbv gy3t qojq"));
        Assert.Equal("otpauth://totp/T2I%20Studio:a%40example.test?secret=GEZDGNBV&issuer=T2I%20Studio&digits=6",
            AuthenticatorSetup.AuthenticatorUri("a@example.test", "GEZDGNBV"));
    }
}

/// <summary><c>Accounts:RequireTwoFactor=true</c>: password sign-ins without a second factor enrol before anything else.</summary>
public sealed class TwoFactorRequiredTests : IDisposable
{
    private readonly StudioAppFactory _app = new(settings: new Dictionary<string, string?>
    {
        ["Accounts:RequireTwoFactor"] = "true",
        ["RateLimits:SignInPerMinutePerAddress"] = "1000",
    });

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task Every_page_sends_a_person_without_two_factor_to_enrol_until_they_have_and_not_after()
    {
        const string email = "tf-required@example.test";
        var user = await _app.CreateUserAsync(email);
        var token = await _app.CreateTokenAsync(user);
        using var client = await TwoFactorPages.SignedInAsync(_app, email);

        foreach (var path in new[] { "/", "/gallery", "/Account/Manage", "/Account/Manage/ChangePassword", "/account/api-tokens", "/admin" })
        {
            var response = await client.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"{path} answered {(int)response.StatusCode}");
            Assert.Equal("/Account/Manage/TwoFactor?required=1", TwoFactorPages.Target(response));
        }
        // Not sent away: the page itself (which says why), static files, the framework's script, and the API (tokens).
        var page = await client.GetAsync(new Uri("/Account/Manage/TwoFactor?required=1", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Your administrator requires two-factor authentication for everyone who signs in with a password. Set it up to continue.",
            TestAccounts.Banners(await page.Content.ReadAsStringAsync()));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/app.css", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/_framework/blazor.web.js", UriKind.Relative))).StatusCode);
        using (var api = _app.CreateApiClient(token))
        {
            Assert.Equal(HttpStatusCode.OK, (await api.GetAsync(new Uri("/sdapi/v1/samplers", UriKind.Relative))).StatusCode);
        }

        // Enrolled: the same cookie, refreshed by the enrolment, opens every page again.
        var (authenticator, _) = await TwoFactorPages.EnrolAsync(client);
        foreach (var path in new[] { "/", "/gallery", "/Account/Manage" })
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri(path, UriKind.Relative))).StatusCode);
        }

        // The next sign-in asks for the code and lands where it was going.
        using var later = _app.CreateBrowserlikeClient();
        var signedIn = await TwoFactorPages.SignInWithCodeAsync(later, email, authenticator.NextCode);
        Assert.Equal("/", TwoFactorPages.Target(signedIn));
        Assert.Equal(HttpStatusCode.OK, (await later.GetAsync(new Uri("/gallery", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Sign_out_still_works_while_enrolment_is_pending_and_disabling_sends_back_to_enrol()
    {
        const string email = "tf-required-out@example.test";
        await _app.CreateUserAsync(email);
        using var client = await TwoFactorPages.SignedInAsync(_app, email);
        var page = await (await client.GetAsync(new Uri(TwoFactorPages.EnrolPath, UriKind.Relative))).Content.ReadAsStringAsync();
        Assert.Matches("<button type=\"submit\"[^>]*>Sign out</button>", page);
        var token = WebUtility.HtmlDecode(Regex.Match(page, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value);
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token, ["ReturnUrl"] = "/" });
        var signOut = await client.PostAsync(new Uri("/Account/Logout", UriKind.Relative), form);
        Assert.StartsWith("/Account/Login?status=signedout", TwoFactorPages.Target(signOut), StringComparison.Ordinal);

        using var again = await TwoFactorPages.SignedInAsync(_app, email);
        await TwoFactorPages.EnrolAsync(again);
        Assert.Equal(HttpStatusCode.OK, (await again.GetAsync(new Uri("/", UriKind.Relative))).StatusCode);
        await TestAccounts.PostFormAsync(again, TwoFactorPages.EnrolPath, "disable-2fa", new Dictionary<string, string>());
        var home = await again.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Equal("/Account/Manage/TwoFactor?required=1", TwoFactorPages.Target(home));
    }

    [Fact]
    public async Task The_cookies_minutely_refresh_keeps_how_the_person_signed_in()
    {
        // Identity's security stamp check rebuilds the principal from the database and drops these by itself.
        var options = _app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<SecurityStampValidatorOptions>>().Value;
        var context = new SecurityStampRefreshingPrincipalContext
        {
            CurrentPrincipal = new ClaimsPrincipal(new ClaimsIdentity(
                [new(ClaimTypes.NameIdentifier, "u1"), new("amr", "pwd"), new(ClaimTypes.AuthenticationMethod, OidcOptions.Scheme)], "Identity.Application")),
            NewPrincipal = new ClaimsPrincipal(new ClaimsIdentity([new(ClaimTypes.NameIdentifier, "u1")], "Identity.Application")),
        };
        Assert.NotNull(options.OnRefreshingPrincipal);
        await options.OnRefreshingPrincipal(context);
        Assert.Equal("pwd", context.NewPrincipal!.FindFirstValue("amr"));
        Assert.Equal(OidcOptions.Scheme, context.NewPrincipal.FindFirstValue(ClaimTypes.AuthenticationMethod));
        Assert.False(TwoFactorEnrolment.LacksSecondFactor(context.NewPrincipal));
    }

    [Fact]
    public void A_company_sign_in_follows_the_providers_second_factor_and_a_password_one_without_2fa_does_not()
    {
        static ClaimsPrincipal Principal(params Claim[] claims) =>
            new(new ClaimsIdentity([new(ClaimTypes.NameIdentifier, "u1"), .. claims], "Identity.Application"));

        Assert.True(TwoFactorEnrolment.LacksSecondFactor(Principal(new Claim("amr", "pwd"))));
        Assert.False(TwoFactorEnrolment.LacksSecondFactor(Principal(new Claim(StudioClaimsPrincipalFactory.TwoFactorClaim, "on"))));
        Assert.False(TwoFactorEnrolment.LacksSecondFactor(Principal(new Claim(ClaimTypes.AuthenticationMethod, OidcOptions.Scheme))));
        Assert.False(TwoFactorEnrolment.LacksSecondFactor(new ClaimsPrincipal(new ClaimsIdentity())));
    }
}
