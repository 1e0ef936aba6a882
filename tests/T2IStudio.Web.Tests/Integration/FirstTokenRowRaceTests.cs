using System.Globalization;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data.Entities;
using T2IStudio.Testing;
using T2IStudio.Web.Auth.TwoFactor;
using T2IStudio.Web.Email;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>
/// Requests that create an account's token row for the first time at the same moment (a throttle time, the last
/// accepted authenticator step): one wins, the others are refused or throttled, and none fails with an error.
/// </summary>
public sealed class FirstTokenRowRaceTests
{
    private const int Racers = 8;

    [Fact]
    public async Task Reset_mails_asked_for_at_once_send_one_and_fail_none()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var app = MailingApp.Start(sink);
        var user = await app.CreateUserAsync("race-reset@example.test");
        var scopes = Enumerable.Range(0, Racers).Select(_ => app.Services.CreateScope()).ToList();
        try
        {
            // Every racer has read the account before any of them writes.
            var racers = new List<(AccountMail Mail, AppUser User)>();
            foreach (var scope in scopes)
            {
                racers.Add((scope.ServiceProvider.GetRequiredService<AccountMail>(),
                    (await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByIdAsync(user.Id))!));
            }

            var outcomes = await Task.WhenAll(racers.Select(r => Task.Run(() => r.Mail.SendPasswordResetAsync(r.User))));

            Assert.Single(outcomes, o => o == AccountMailOutcome.Sent);
            Assert.All(outcomes, o => Assert.True(o is AccountMailOutcome.Sent or AccountMailOutcome.Throttled, o.ToString()));
        }
        finally
        {
            scopes.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task One_authenticator_code_used_at_once_is_accepted_once_and_fails_none()
    {
        using var app = new StudioAppFactory();
        var user = await app.CreateUserAsync("race-code@example.test");
        string key;
        using (var scope = app.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            var stored = (await users.FindByIdAsync(user.Id))!;
            await users.ResetAuthenticatorKeyAsync(stored);
            key = (await users.GetAuthenticatorKeyAsync(stored))!;
        }
        var code = Totp.Code(Totp.DecodeBase32(key)!, Totp.StepAt(DateTimeOffset.UtcNow)).ToString("D6", CultureInfo.InvariantCulture);
        var provider = new SingleUseAuthenticatorTokenProvider(TimeProvider.System);
        var scopes = Enumerable.Range(0, Racers).Select(_ => app.Services.CreateScope()).ToList();
        try
        {
            var racers = new List<(UserManager<AppUser> Users, AppUser User)>();
            foreach (var scope in scopes)
            {
                var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
                racers.Add((users, (await users.FindByIdAsync(user.Id))!));
            }

            var accepted = await Task.WhenAll(racers.Select(r => Task.Run(() => provider.ValidateAsync("TwoFactor", code, r.Users, r.User))));

            Assert.Single(accepted, a => a);
        }
        finally
        {
            scopes.ForEach(s => s.Dispose());
        }
    }
}
