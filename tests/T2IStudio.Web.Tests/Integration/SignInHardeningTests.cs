using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Web.Auth;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>The account forms' rate limits: 429 with Retry-After past the limit, per address and per account.</summary>
public sealed class RateLimitTests
{
    private static StudioAppFactory App(params (string Key, string Value)[] settings) =>
        new(settings: settings.ToDictionary(s => s.Key, s => (string?)s.Value));

    private static void AssertTooManyRequests(HttpResponseMessage response, int windowSeconds)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        var retryAfter = response.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value.TotalSeconds, 1, windowSeconds);
    }

    [Fact]
    public async Task Sign_in_posts_past_the_per_address_limit_get_429_with_retry_after_while_the_form_still_opens()
    {
        using var app = App(("RateLimits:SignInPerMinutePerAddress", "3"));
        using var client = app.CreateBrowserlikeClient();
        for (var i = 1; i <= 3; i++)
        {
            var allowed = await TestAccounts.SignInAsync(client, $"nobody{i}@example.test", "Wrong-password-1");
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        }

        var refused = await TestAccounts.SignInAsync(client, "nobody4@example.test", "Wrong-password-1");
        AssertTooManyRequests(refused, 60);
        Assert.StartsWith("Too many attempts from here or for this account. Try again in ", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/Account/Login", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Sign_in_posts_past_the_per_account_limit_get_429_for_that_account_only()
    {
        using var app = App(("RateLimits:SignInPerMinutePerAccount", "2"));
        await app.CreateUserAsync("limited@example.test");
        using var client = app.CreateBrowserlikeClient();
        Assert.Equal(HttpStatusCode.OK, (await TestAccounts.SignInAsync(client, "limited@example.test", "Wrong-password-1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await TestAccounts.SignInAsync(client, "LIMITED@example.test", "Wrong-password-2")).StatusCode);

        AssertTooManyRequests(await TestAccounts.SignInAsync(client, " limited@example.test ", TestAccounts.Password), 60);
        Assert.Equal(HttpStatusCode.OK, (await TestAccounts.SignInAsync(client, "someone-else@example.test", "Wrong-password-1")).StatusCode);
    }

    [Fact]
    public async Task Register_posts_past_the_per_address_limit_get_429_with_retry_after()
    {
        using var app = App(("RateLimits:RegisterPerHourPerAddress", "2"));
        using var client = app.CreateBrowserlikeClient();
        Assert.Equal(HttpStatusCode.OK, (await TestAccounts.RegisterAsync(client, "r1@example.test", "short")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await TestAccounts.RegisterAsync(client, "r2@example.test", "short")).StatusCode);

        AssertTooManyRequests(await TestAccounts.RegisterAsync(client, "r3@example.test"), 3600);
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        Assert.False(await db.Users.AnyAsync());
    }
}

/// <summary>Lockout on every sign-in path, and answers that do not tell which emails have accounts.</summary>
public sealed class SignInHardeningTests(StudioAppFixture app) : IClassFixture<StudioAppFixture>
{
    private static async Task<string> SignInMessageAsync(HttpClient client, string email, string password)
    {
        var response = await TestAccounts.SignInAsync(client, email, password);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Assert.Single(TestAccounts.Banners(await response.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task A_disabled_account_counts_wrong_passwords_and_locks_out_like_any_other()
    {
        var admin = await app.Factory.CreateUserAsync("hard-admin@example.test");
        var user = await app.Factory.CreateUserAsync("hard-disabled@example.test");
        using (var scope = app.Factory.Services.CreateScope())
        {
            Assert.True((await scope.ServiceProvider.GetRequiredService<AccountAdministration>().SetDisabledAsync(admin.Id, user.Id, disabled: true)).Succeeded);
        }
        using var client = app.Factory.CreateBrowserlikeClient();

        // The right password says why; wrong ones count towards lockout.
        Assert.Equal("This account has been disabled by an administrator.", await SignInMessageAsync(client, user.Email!, TestAccounts.Password));
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            var message = await SignInMessageAsync(client, user.Email!, "Wrong-password-" + attempt);
            Assert.Equal(attempt < 5 ? "Invalid email or password." : "Too many failed sign-ins: this account is locked for 15 minutes.", message);
        }

        // Locked: even the right password no longer tells that the account is disabled.
        Assert.Equal("Too many failed sign-ins: this account is locked for 15 minutes.", await SignInMessageAsync(client, user.Email!, TestAccounts.Password));
        await using var db = await app.Factory.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var row = await db.Users.SingleAsync(u => u.Id == user.Id);
        Assert.NotNull(row.LockoutEnd);
        Assert.InRange(row.LockoutEnd.Value - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(14), TimeSpan.FromMinutes(15.1));
    }

    [Fact]
    public async Task An_unknown_email_gets_the_same_answers_as_a_known_one_through_lockout()
    {
        await app.Factory.CreateUserAsync("hard-known@example.test");
        using var client = app.Factory.CreateBrowserlikeClient();
        var known = new List<string>();
        var unknown = new List<string>();
        for (var attempt = 1; attempt <= 6; attempt++)
        {
            known.Add(await SignInMessageAsync(client, "hard-known@example.test", "Wrong-password-" + attempt));
            unknown.Add(await SignInMessageAsync(client, "hard-unknown@example.test", "Wrong-password-" + attempt));
        }

        Assert.Equal(known, unknown);
        Assert.Equal([.. Enumerable.Repeat("Invalid email or password.", 4), .. Enumerable.Repeat("Too many failed sign-ins: this account is locked for 15 minutes.", 2)], known);
    }

    [Fact]
    public async Task Wrong_current_passwords_on_change_password_count_towards_lockout_and_lockout_holds_there()
    {
        const string email = "hard-change@example.test";
        await app.Factory.CreateUserAsync(email);
        using var client = app.Factory.CreateBrowserlikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.SignInAsync(client, email, TestAccounts.Password)).StatusCode);

        async Task<string> ChangeAsync(string current)
        {
            var response = await TestAccounts.PostFormAsync(client, "/Account/Manage/ChangePassword", "change-password", new Dictionary<string, string>
            {
                ["Input.OldPassword"] = current,
                ["Input.NewPassword"] = "Brand-new-Pass-2",
                ["Input.ConfirmPassword"] = "Brand-new-Pass-2",
            });
            return Assert.Single(TestAccounts.Banners(await response.Content.ReadAsStringAsync()));
        }

        for (var attempt = 1; attempt <= 5; attempt++)
        {
            Assert.Equal(attempt < 5 ? "The current password is not right." : "Too many wrong passwords: this account is locked for 15 minutes.", await ChangeAsync("Wrong-password-" + attempt));
        }
        Assert.Equal("Too many wrong passwords: this account is locked for 15 minutes.", await ChangeAsync(TestAccounts.Password));
        using var other = app.Factory.CreateBrowserlikeClient();
        Assert.Equal("Too many failed sign-ins: this account is locked for 15 minutes.", await SignInMessageAsync(other, email, TestAccounts.Password));
    }

    [Fact]
    public void An_unknown_email_costs_a_password_hash_verification_like_a_known_one()
    {
        using var scope = app.Factory.Services.CreateScope();
        var hasher = new CountingHasher(scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.IPasswordHasher<T2IStudio.Data.Entities.AppUser>>());
        var unknown = app.Factory.Services.GetRequiredService<UnknownAccountSignIns>();
        unknown.VerifyDummy(hasher, "Wrong-password-1");
        unknown.VerifyDummy(hasher, "Wrong-password-2");
        Assert.Equal(2, hasher.Verifications);
        Assert.True(hasher.Hashes <= 1); // the dummy hash is made once, with the configured work factor
    }

    private sealed class CountingHasher(Microsoft.AspNetCore.Identity.IPasswordHasher<T2IStudio.Data.Entities.AppUser> inner)
        : Microsoft.AspNetCore.Identity.IPasswordHasher<T2IStudio.Data.Entities.AppUser>
    {
        public int Hashes { get; private set; }

        public int Verifications { get; private set; }

        public string HashPassword(T2IStudio.Data.Entities.AppUser user, string password)
        {
            Hashes++;
            return inner.HashPassword(user, password);
        }

        public Microsoft.AspNetCore.Identity.PasswordVerificationResult VerifyHashedPassword(T2IStudio.Data.Entities.AppUser user, string hashedPassword, string providedPassword)
        {
            Verifications++;
            return inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
        }
    }
}
