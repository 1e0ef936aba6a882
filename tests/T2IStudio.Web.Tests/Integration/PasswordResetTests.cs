using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data.Entities;
using T2IStudio.Testing;
using T2IStudio.Web.Auth;
using T2IStudio.Web.Components.Account.Pages;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>"Forgot password?" by email against a real SMTP server: the link, the new password, and what the form does not tell.</summary>
public sealed class PasswordResetTests
{
    private const string ResetSubject = "Reset your T2I Studio password";
    private const string NewPassword = "Brand-new-Pass-2";

    private static Task<HttpResponseMessage> ForgotAsync(HttpClient client, string email) =>
        TestAccounts.PostFormAsync(client, "/Account/ForgotPassword", "forgot-password", new Dictionary<string, string> { ["Input.Email"] = email });

    private static Task<HttpResponseMessage> ResetAsync(HttpClient client, Uri link, string password, string? confirm = null) =>
        TestAccounts.PostFormAsync(client, link.OriginalString, "reset-password", new Dictionary<string, string>
        {
            ["Input.Password"] = password,
            ["Input.ConfirmPassword"] = confirm ?? password,
        });

    [Fact]
    public async Task A_reset_link_sets_a_new_password_confirms_the_address_and_works_only_once()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var app = MailingApp.Start(sink);
        await app.CreateUserAsync("reset-me@example.test");
        using var client = app.CreateBrowserlikeClient();

        // The sign-in page offers the link when email is on.
        var login = await (await client.GetAsync(new Uri("/Account/Login", UriKind.Relative))).Content.ReadAsStringAsync();
        Assert.Contains(">Forgot password?</a>", login, StringComparison.Ordinal);

        Assert.Equal([ForgotPassword.SentMessage], await MailingApp.BannersAsync(await ForgotAsync(client, "Reset-Me@example.test")));
        var mail = await sink.WaitForAsync("reset-me@example.test");
        Assert.Equal(ResetSubject, mail.Subject);
        Assert.Contains("Choose a new password: http://localhost/Account/ResetPassword?userId=", mail.TextBody, StringComparison.Ordinal);
        var link = MailingApp.LinkTo(mail, "/Account/ResetPassword");

        // A mistyped confirmation keeps the form and the link.
        var mismatch = await ResetAsync(client, link, NewPassword, "Brand-new-Pass-3");
        Assert.Contains("The two passwords differ.", await mismatch.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var weak = await ResetAsync(client, link, "alllowercase");
        Assert.Contains("Passwords must have at least one", string.Join(" ", await MailingApp.BannersAsync(weak)), StringComparison.Ordinal);

        Assert.Equal([ResetPassword.ChangedMessage], await MailingApp.BannersAsync(await ResetAsync(client, link, NewPassword)));
        Assert.True((await MailingApp.UserAsync(app, "reset-me@example.test")).EmailConfirmed);
        using (var other = app.CreateBrowserlikeClient())
        {
            Assert.Equal(["Invalid email or password."], await MailingApp.BannersAsync(await TestAccounts.SignInAsync(other, "reset-me@example.test", TestAccounts.Password)));
            Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.SignInAsync(other, "reset-me@example.test", NewPassword)).StatusCode);
        }

        // Spent: the password change renewed the account's security stamp, which the link's token was bound to.
        var reopened = await client.GetAsync(link);
        Assert.Equal([ResetPassword.BadLinkMessage], await MailingApp.BannersAsync(reopened));
        Assert.DoesNotContain("Input.Password", await reopened.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var replay = await TestAccounts.PostWithoutFormAsync(client, link.OriginalString, "reset-password", new Dictionary<string, string>
        {
            ["Input.Password"] = "Another-Pass-4",
            ["Input.ConfirmPassword"] = "Another-Pass-4",
        });
        Assert.Equal([ResetPassword.BadLinkMessage], await MailingApp.BannersAsync(replay));
        using var last = app.CreateBrowserlikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.SignInAsync(last, "reset-me@example.test", NewPassword)).StatusCode);
    }

    [Fact]
    public async Task An_altered_reset_link_shows_no_form()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var app = MailingApp.Start(sink);
        var user = await app.CreateUserAsync("reset-altered@example.test");
        var other = await app.CreateUserAsync("reset-bystander@example.test");
        using var client = app.CreateBrowserlikeClient();
        await ForgotAsync(client, "reset-altered@example.test");
        var link = MailingApp.LinkTo(await sink.WaitForAsync("reset-altered@example.test"), "/Account/ResetPassword").OriginalString;
        var code = link[(link.IndexOf("&code=", StringComparison.Ordinal) + "&code=".Length)..];

        foreach (var bad in new[]
        {
            $"/Account/ResetPassword?userId={user.Id}&code={code[..^4]}AAAA",
            $"/Account/ResetPassword?userId={other.Id}&code={code}",
            $"/Account/ResetPassword?userId={user.Id}&code=%%%",
            "/Account/ResetPassword",
        })
        {
            var page = await client.GetAsync(new Uri(bad, UriKind.Relative));
            Assert.Equal([ResetPassword.BadLinkMessage], await MailingApp.BannersAsync(page));
            Assert.DoesNotContain("Input.Password", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Forgot_password_answers_the_same_for_every_address_and_mails_only_an_enabled_account()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var app = MailingApp.Start(sink);
        var admin = await app.CreateUserAsync("forgot-admin@example.test");
        await app.CreateUserAsync("forgot-real@example.test");
        var disabled = await app.CreateUserAsync("forgot-disabled@example.test");
        using (var scope = app.Services.CreateScope())
        {
            Assert.True((await scope.ServiceProvider.GetRequiredService<AccountAdministration>().SetDisabledAsync(admin.Id, disabled.Id, disabled: true)).Succeeded);
        }
        using var client = app.CreateBrowserlikeClient();

        foreach (var email in new[] { "forgot-nobody@example.test", "forgot-disabled@example.test", "forgot-real@example.test" })
        {
            var response = await ForgotAsync(client, email);
            Assert.Equal([ForgotPassword.SentMessage], await MailingApp.BannersAsync(response));
            Assert.DoesNotContain("Input.Email", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await MailingApp.DrainAsync(app, sink);
        var sent = sink.Messages().Where(m => !m.To.Mailboxes.First().Address.StartsWith("barrier-", StringComparison.Ordinal)).ToList();
        Assert.Equal(["forgot-real@example.test"], sent.Select(m => m.To.Mailboxes.Single().Address));
        Assert.Equal(ResetSubject, sent[0].Subject);
    }

    /// <summary>An account as company sign-in makes it: no password, a linked external login.</summary>
    private static async Task<AppUser> CompanyAccountAsync(StudioAppFactory app, string email)
    {
        using var scope = app.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = new AppUser { UserName = email, Email = email, EmailConfirmed = true, DisplayName = "Company", CreatedAt = DateTimeOffset.UtcNow };
        Assert.True((await users.CreateAsync(user)).Succeeded);
        Assert.True((await users.AddLoginAsync(user, new UserLoginInfo("oidc", $"subject-of-{email}", "Example SSO"))).Succeeded);
        return user;
    }

    private static async Task<IList<UserLoginInfo>> LoginsAsync(StudioAppFactory app, string id)
    {
        using var scope = app.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        return await users.GetLoginsAsync((await users.FindByIdAsync(id))!);
    }

    [Fact]
    public async Task An_account_made_by_company_sign_in_gets_no_password_by_email_and_the_same_answer()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var app = MailingApp.Start(sink);
        var user = await CompanyAccountAsync(app, "forgot-company@example.test");
        using var client = app.CreateBrowserlikeClient();

        Assert.Equal([ForgotPassword.SentMessage], await MailingApp.BannersAsync(await ForgotAsync(client, "forgot-company@example.test")));

        await MailingApp.DrainAsync(app, sink);
        Assert.Empty(MailingApp.To(sink, "forgot-company@example.test"));
        // A token made some other way opens no form: the password would bypass the provider and its second factor.
        string token;
        using (var scope = app.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            token = await users.GeneratePasswordResetTokenAsync((await users.FindByIdAsync(user.Id))!);
        }
        var page = await client.GetAsync(new Uri($"/Account/ResetPassword?userId={user.Id}&code={T2IStudio.Web.Email.AccountMail.EncodeCode(token)}", UriKind.Relative));
        Assert.Equal([ResetPassword.BadLinkMessage], await MailingApp.BannersAsync(page));
    }

    [Fact]
    public async Task A_reset_of_an_unconfirmed_account_removes_its_company_logins_and_a_confirmed_one_keeps_them()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var app = MailingApp.Start(sink);
        // Someone registered the address first and linked their own company login; the mailbox's owner resets.
        var squatted = await app.CreateUserAsync("reset-squatted@example.test");
        var confirmed = await app.CreateUserAsync("reset-linked@example.test");
        using (var scope = app.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            var first = (await users.FindByIdAsync(squatted.Id))!;
            Assert.True((await users.AddLoginAsync(first, new UserLoginInfo("oidc", "squatter-subject", "Example SSO"))).Succeeded);
            var second = (await users.FindByIdAsync(confirmed.Id))!;
            Assert.True((await users.ConfirmEmailAsync(second, await users.GenerateEmailConfirmationTokenAsync(second))).Succeeded);
            Assert.True((await users.AddLoginAsync(second, new UserLoginInfo("oidc", "owner-subject", "Example SSO"))).Succeeded);
        }
        using var client = app.CreateBrowserlikeClient();

        foreach (var email in new[] { "reset-squatted@example.test", "reset-linked@example.test" })
        {
            await ForgotAsync(client, email);
            var link = MailingApp.LinkTo(await sink.WaitForAsync(email), "/Account/ResetPassword");
            Assert.Equal([ResetPassword.ChangedMessage], await MailingApp.BannersAsync(await ResetAsync(client, link, NewPassword)));
        }

        Assert.Empty(await LoginsAsync(app, squatted.Id));
        Assert.True((await MailingApp.UserAsync(app, "reset-squatted@example.test")).EmailConfirmed);
        Assert.Equal("owner-subject", Assert.Single(await LoginsAsync(app, confirmed.Id)).ProviderKey);
    }

    [Fact]
    public async Task An_account_gets_at_most_one_reset_mail_per_two_minutes()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var app = MailingApp.Start(sink);
        await app.CreateUserAsync("forgot-flood@example.test");
        using var client = app.CreateBrowserlikeClient();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal([ForgotPassword.SentMessage], await MailingApp.BannersAsync(await ForgotAsync(client, "forgot-flood@example.test")));
        }
        await MailingApp.DrainAsync(app, sink);
        Assert.Single(MailingApp.To(sink, "forgot-flood@example.test"));
    }

    [Fact]
    public async Task The_email_forms_refuse_posts_past_the_per_address_limit_with_retry_after()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var app = MailingApp.Start(sink);
        using var client = app.CreateBrowserlikeClient();
        for (var i = 0; i < StudioRateLimits.AccountEmailPerHourPerAddress / 2; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await ForgotAsync(client, $"nobody{i}@example.test")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await TestAccounts.PostFormAsync(client, "/Account/ResendConfirmation", "resend-confirmation",
                new Dictionary<string, string> { ["Input.Email"] = $"nobody{i}@example.test" })).StatusCode);
        }

        var refused = await ForgotAsync(client, "one-more@example.test");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.InRange(refused.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 3600);
        Assert.StartsWith("Too many attempts from here or for this account.", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_email_the_page_says_to_ask_an_administrator_and_the_sign_in_page_does_not_offer_it()
    {
        using var app = new StudioAppFactory();
        await app.CreateUserAsync("forgot-offline@example.test");
        using var client = app.CreateBrowserlikeClient();
        Assert.DoesNotContain("Forgot password?", await (await client.GetAsync(new Uri("/Account/Login", UriKind.Relative))).Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var page = await client.GetAsync(new Uri("/Account/ForgotPassword", UriKind.Relative));
        Assert.Equal([ForgotPassword.EmailOffMessage], await MailingApp.BannersAsync(page));
        Assert.DoesNotContain("Input.Email", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var post = await TestAccounts.PostWithoutFormAsync(client, "/Account/ForgotPassword", "forgot-password", new Dictionary<string, string> { ["Input.Email"] = "forgot-offline@example.test" });
        Assert.Equal([ForgotPassword.EmailOffMessage], await MailingApp.BannersAsync(post));
    }

    [Fact]
    public async Task With_passwords_off_nothing_is_sent_and_no_reset_link_works()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var app = MailingApp.Start(sink,
            ("Authentication:Oidc:Authority", "https://idp.example.test"), ("Authentication:Oidc:ClientId", "studio"),
            ("Authentication:Oidc:DisplayName", "Example SSO"), ("Authentication:Oidc:Only", "true"));
        var user = await app.CreateUserAsync("forgot-sso@example.test");
        using var client = app.CreateBrowserlikeClient();
        const string Off = "Passwords are turned off here, so there is none to reset: use “Sign in with Example SSO”.";

        Assert.Equal([Off], await MailingApp.BannersAsync(await client.GetAsync(new Uri("/Account/ForgotPassword", UriKind.Relative))));
        var post = await TestAccounts.PostWithoutFormAsync(client, "/Account/ForgotPassword", "forgot-password", new Dictionary<string, string> { ["Input.Email"] = "forgot-sso@example.test" });
        Assert.Equal([Off], await MailingApp.BannersAsync(post));

        // A token made some other way (before passwords were turned off) opens no form either.
        string token;
        using (var scope = app.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            token = await users.GeneratePasswordResetTokenAsync((await users.FindByIdAsync(user.Id))!);
        }
        var page = await client.GetAsync(new Uri($"/Account/ResetPassword?userId={user.Id}&code={T2IStudio.Web.Email.AccountMail.EncodeCode(token)}", UriKind.Relative));
        Assert.Equal(["Passwords are turned off here: use “Sign in with Example SSO”."], await MailingApp.BannersAsync(page));
        Assert.DoesNotContain("Input.Password", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await MailingApp.DrainAsync(app, sink);
        Assert.Empty(MailingApp.To(sink, "forgot-sso@example.test"));
    }
}
