using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Auth;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

public sealed class AccountTests(StudioAppFixture app) : IClassFixture<StudioAppFixture>
{
    [Fact]
    public async Task Sixth_sign_in_after_five_wrong_passwords_is_locked_out_for_fifteen_minutes()
    {
        const string email = "lockout@example.test";
        await app.Factory.CreateUserAsync(email);
        using var client = app.Factory.CreateBrowserlikeClient();

        for (var attempt = 1; attempt <= 5; attempt++)
        {
            var wrong = await TestAccounts.SignInAsync(client, email, "Wrong-password-" + attempt);
            var html = await wrong.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
            Assert.Contains(attempt < 5 ? "Invalid email or password." : "locked for 15 minutes", html, StringComparison.Ordinal);
        }

        // The sixth try is refused even with the right password.
        var sixth = await TestAccounts.SignInAsync(client, email, TestAccounts.Password);
        Assert.Equal(HttpStatusCode.OK, sixth.StatusCode);
        Assert.Contains("locked for 15 minutes", await sixth.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await using var db = await Db().CreateDbContextAsync();
        var user = await db.Users.SingleAsync(u => u.Email == email);
        Assert.NotNull(user.LockoutEnd);
        var remaining = user.LockoutEnd.Value - DateTimeOffset.UtcNow;
        Assert.InRange(remaining, TimeSpan.FromMinutes(14), TimeSpan.FromMinutes(15.1));
    }

    [Fact]
    public async Task Correct_password_signs_in_and_serves_the_shell_with_the_display_name()
    {
        const string email = "shell@example.test";
        await app.Factory.CreateUserAsync(email, displayName: "Shelly");
        using var client = app.Factory.CreateBrowserlikeClient();

        var signIn = await TestAccounts.SignInAsync(client, email, TestAccounts.Password);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);

        var shell = await client.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, shell.StatusCode);
        var html = await shell.Content.ReadAsStringAsync();
        Assert.Contains("Shelly", html, StringComparison.Ordinal);
        Assert.Contains("aria-label=\"Toggle dark mode\"", html, StringComparison.Ordinal);
        foreach (var link in new[] { "Create", "Gallery", "Inpaint", "Teams" })
        {
            Assert.Contains($">{link}</", html, StringComparison.Ordinal);
        }
        Assert.DoesNotContain("href=\"/admin\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disabled_user_is_refused_by_cookie_and_at_sign_in()
    {
        var admin = await app.Factory.CreateUserAsync("disabler-admin@example.test");
        var user = await app.Factory.CreateUserAsync("to-disable@example.test");
        using var client = app.Factory.CreateBrowserlikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.SignInAsync(client, "to-disable@example.test", TestAccounts.Password)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/gallery", UriKind.Relative))).StatusCode);

        using (var scope = app.Factory.Services.CreateScope())
        {
            var result = await scope.ServiceProvider.GetRequiredService<AccountAdministration>().SetDisabledAsync(admin.Id, user.Id, disabled: true);
            Assert.True(result.Succeeded, result.Message);
        }

        // The very next request with the old cookie is refused and the cookie is dropped.
        var next = await client.GetAsync(new Uri("/gallery", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, next.StatusCode);
        Assert.Equal("/Account/Login", next.Headers.Location?.AbsolutePath ?? new Uri(new Uri("http://x"), next.Headers.Location!).AbsolutePath);

        // Signing in again with the right password says why; a wrong one gives nothing away.
        var again = await TestAccounts.SignInAsync(client, "to-disable@example.test", TestAccounts.Password);
        Assert.Contains("disabled by an administrator", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var guess = await TestAccounts.SignInAsync(client, "to-disable@example.test", "Wrong-password-1");
        var guessHtml = await guess.Content.ReadAsStringAsync();
        Assert.Contains("Invalid email or password.", guessHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("disabled by an administrator", guessHtml, StringComparison.Ordinal);

        // Re-enabled, the account signs in again.
        using (var scope = app.Factory.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<AccountAdministration>().SetDisabledAsync(admin.Id, user.Id, disabled: false);
        }
        Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.SignInAsync(client, "to-disable@example.test", TestAccounts.Password)).StatusCode);
    }

    [Fact]
    public async Task Admin_cannot_disable_their_own_account()
    {
        var admin = await app.Factory.CreateUserAsync("self-disable@example.test");
        using var scope = app.Factory.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<AccountAdministration>().SetDisabledAsync(admin.Id, admin.Id, disabled: true);
        Assert.False(result.Succeeded);
        await using var db = await Db().CreateDbContextAsync();
        Assert.False(await db.Users.Where(u => u.Id == admin.Id).Select(u => u.IsDisabled).SingleAsync());
    }

    [Fact]
    public async Task Registering_with_a_weak_password_keeps_the_email_and_says_why()
    {
        using var client = app.Factory.CreateBrowserlikeClient();
        var response = await TestAccounts.RegisterAsync(client, "weak@example.test", "short");
        var html = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("at least 8 characters", html, StringComparison.Ordinal);
        Assert.Contains("value=\"weak@example.test\"", html, StringComparison.Ordinal);
        await using var db = await Db().CreateDbContextAsync();
        Assert.False(await db.Users.AnyAsync(u => u.Email == "weak@example.test"));
    }

    [Fact]
    public async Task Sign_out_requires_the_antiforgery_token()
    {
        await app.Factory.CreateUserAsync("csrf@example.test");
        using var client = app.Factory.CreateBrowserlikeClient();
        await TestAccounts.SignInAsync(client, "csrf@example.test", TestAccounts.Password);
        using var forged = new FormUrlEncodedContent(new Dictionary<string, string> { ["ReturnUrl"] = "/" });
        var response = await client.PostAsync(new Uri("/Account/Logout", UriKind.Relative), forged);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/gallery", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Changing_the_password_keeps_this_browser_signed_in_and_the_old_password_stops_working()
    {
        const string email = "rotate@example.test";
        await app.Factory.CreateUserAsync(email);
        using var client = app.Factory.CreateBrowserlikeClient();
        await TestAccounts.SignInAsync(client, email, TestAccounts.Password);

        var wrong = await TestAccounts.PostFormAsync(client, "/Account/Manage/ChangePassword", "change-password", new Dictionary<string, string>
        {
            ["Input.OldPassword"] = "Not-my-password-1",
            ["Input.NewPassword"] = "Brand-new-Pass-2",
            ["Input.ConfirmPassword"] = "Brand-new-Pass-2",
        });
        Assert.Contains("The current password is not right.", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var changed = await TestAccounts.PostFormAsync(client, "/Account/Manage/ChangePassword", "change-password", new Dictionary<string, string>
        {
            ["Input.OldPassword"] = TestAccounts.Password,
            ["Input.NewPassword"] = "Brand-new-Pass-2",
            ["Input.ConfirmPassword"] = "Brand-new-Pass-2",
        });
        Assert.Contains("Your password has been changed.", await changed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/gallery", UriKind.Relative))).StatusCode);

        using var other = app.Factory.CreateBrowserlikeClient();
        Assert.Contains("Invalid email or password.", await (await TestAccounts.SignInAsync(other, email, TestAccounts.Password)).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.SignInAsync(other, email, "Brand-new-Pass-2")).StatusCode);
    }

    [Fact]
    public async Task An_admin_resets_someones_two_factor_so_the_password_alone_signs_in_and_the_old_key_and_codes_are_gone()
    {
        var admin = await app.Factory.CreateUserAsync("reset-2fa-admin@example.test");
        var user = await app.Factory.CreateUserAsync("lost-phone@example.test");
        string stampBefore;
        using (var scope = app.Factory.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            var row = (await users.FindByIdAsync(user.Id))!;
            Assert.True((await users.ResetAuthenticatorKeyAsync(row)).Succeeded);
            Assert.NotNull(await users.GenerateNewTwoFactorRecoveryCodesAsync(row, 10));
            Assert.True((await users.SetTwoFactorEnabledAsync(row, true)).Succeeded);
            stampBefore = (await users.GetSecurityStampAsync(row))!;
        }
        using (var client = app.Factory.CreateBrowserlikeClient())
        {
            var asked = await TestAccounts.SignInAsync(client, "lost-phone@example.test", TestAccounts.Password);
            Assert.Equal(HttpStatusCode.Redirect, asked.StatusCode);
            Assert.Equal("/Account/LoginWith2fa", asked.Headers.Location?.AbsolutePath);
        }

        using (var scope = app.Factory.Services.CreateScope())
        {
            var accounts = scope.ServiceProvider.GetRequiredService<AccountAdministration>();
            var reset = await accounts.ResetTwoFactorAsync(admin.Id, user.Id);
            Assert.True(reset.Succeeded, reset.Message);
            var again = await accounts.ResetTwoFactorAsync(admin.Id, user.Id);
            Assert.False(again.Succeeded);
            Assert.Contains("does not use two-factor authentication", again.Message, StringComparison.Ordinal);

            var summary = (await accounts.ListUsersAsync()).Single(u => u.Id == user.Id);
            Assert.False(summary.TwoFactorEnabled);
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            var row = (await users.FindByIdAsync(user.Id))!;
            Assert.Null(await users.GetAuthenticatorKeyAsync(row));
            Assert.Equal(0, await users.CountRecoveryCodesAsync(row));
            Assert.NotEqual(stampBefore, await users.GetSecurityStampAsync(row));
        }
        using (var client = app.Factory.CreateBrowserlikeClient())
        {
            var signedIn = await TestAccounts.SignInAsync(client, "lost-phone@example.test", TestAccounts.Password);
            Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
            Assert.Equal("/", signedIn.Headers.Location?.AbsolutePath);
        }
    }

    private IDbContextFactory<AppDbContext> Db() => app.Factory.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
}

/// <summary>Needs a database of its own: "first account" is about the whole table.</summary>
public sealed class FirstAccountTests : IDisposable
{
    private readonly StudioAppFactory _factory = new();

    [Fact]
    public async Task First_registered_account_becomes_admin_and_the_second_does_not()
    {
        using (var first = _factory.CreateBrowserlikeClient())
        {
            var response = await TestAccounts.RegisterAsync(first, "first@example.test");
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            var admin = await first.GetAsync(new Uri("/admin", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
            var html = await admin.Content.ReadAsStringAsync();
            Assert.Contains("first@example.test", html, StringComparison.Ordinal);
            // The engine card: test outputs carry no CUDA provider, so auto falls back to the CPU and says why.
            Assert.Contains("Generation engine", html, StringComparison.Ordinal);
            Assert.Contains("CUDA did not load, so generation runs on the CPU", html, StringComparison.Ordinal);
            Assert.Contains("t2istudio-tiny", html, StringComparison.Ordinal); // the embedded model, from models/
        }
        using (var second = _factory.CreateBrowserlikeClient())
        {
            Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.RegisterAsync(second, "second@example.test")).StatusCode);
            var admin = await second.GetAsync(new Uri("/admin", UriKind.Relative));
            Assert.Equal(HttpStatusCode.Redirect, admin.StatusCode);
            Assert.Equal("/Account/AccessDenied", admin.Headers.Location?.AbsolutePath);
        }

        using var scope = _factory.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        Assert.True(await users.IsInRoleAsync((await users.FindByEmailAsync("first@example.test"))!, AppDbContext.AdminRole));
        Assert.False(await users.IsInRoleAsync((await users.FindByEmailAsync("second@example.test"))!, AppDbContext.AdminRole));
    }

    [Fact]
    public async Task Registering_an_existing_email_is_refused_with_a_neutral_message_and_no_second_account()
    {
        using var client = _factory.CreateBrowserlikeClient();
        await TestAccounts.RegisterAsync(client, "twice@example.test");
        using var other = _factory.CreateBrowserlikeClient();
        var response = await TestAccounts.RegisterAsync(other, "twice@example.test");
        // Without email confirmation, Open registration cannot hide that the email is taken; it says no more than that.
        Assert.Equal([AccountRegistration.EmailTakenMessage], TestAccounts.Banners(await response.Content.ReadAsStringAsync()));
        await using var db = await _factory.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        Assert.Equal(1, await db.Users.CountAsync(u => u.Email == "twice@example.test"));
    }

    public void Dispose() => _factory.Dispose();

}
