using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using MimeKit;
using T2IStudio.Data.Entities;
using T2IStudio.Testing;
using T2IStudio.Web.Components.Account.Pages;
using T2IStudio.Web.Email;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>The app with email through a real SMTP sink, and what the account-email tests need around it.</summary>
internal static class MailingApp
{
    /// <summary>Where the test server's links point (its client's base address).</summary>
    public const string PublicBaseUrl = "http://localhost/";

    /// <summary>The app, mailing <paramref name="sink"/>, with <paramref name="settings"/> on top.</summary>
    public static StudioAppFactory Start(SmtpSink sink, params (string Key, string Value)[] settings)
    {
        var all = sink.Settings.ToDictionary(s => s.Key, s => s.Value);
        all["Network:PublicBaseUrl"] = PublicBaseUrl;
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }
        return new StudioAppFactory(settings: all);
    }

    /// <summary>
    /// Sends one more message and waits for it: mail goes out one at a time in queue order, so once it has arrived,
    /// everything queued before it has too, and what is missing was never sent (no sleeping on an absence).
    /// </summary>
    public static async Task DrainAsync(StudioAppFactory app, SmtpSink sink)
    {
        var barrier = $"barrier-{Guid.NewGuid():N}@example.test";
        Assert.True(app.Services.GetRequiredService<StudioMail>().Send("Test", barrier, null, new Dictionary<string, string>
        {
            ["name"] = "barrier",
            ["server"] = "localhost",
            ["link"] = PublicBaseUrl,
        }));
        await sink.WaitForAsync(barrier);
    }

    /// <summary>The messages to <paramref name="address"/> so far.</summary>
    public static IReadOnlyList<MimeMessage> To(SmtpSink sink, string address) =>
        sink.Messages().Where(m => m.To.Mailboxes.Any(a => string.Equals(a.Address, address, StringComparison.OrdinalIgnoreCase))).ToList();

    /// <summary>The link of <paramref name="message"/> to <paramref name="path"/>, as a path and query the test client can open.</summary>
    public static Uri LinkTo(MimeMessage message, string path) =>
        new(SmtpSink.LinkIn(message, PublicBaseUrl.TrimEnd('/') + path + "?").PathAndQuery, UriKind.Relative);

    /// <summary>The account as stored now.</summary>
    public static async Task<AppUser> UserAsync(StudioAppFactory app, string email)
    {
        using var scope = app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(email)
            ?? throw new InvalidOperationException($"No account {email}");
    }

    /// <summary>The status banners of the page <paramref name="response"/> carries.</summary>
    public static async Task<IReadOnlyList<string>> BannersAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return TestAccounts.Banners(await response.Content.ReadAsStringAsync());
    }

    /// <summary>True when <paramref name="client"/> holds a session (the account page opens instead of redirecting).</summary>
    public static async Task<bool> IsSignedInAsync(HttpClient client)
    {
        var response = await client.GetAsync(new Uri("/Account/Manage", UriKind.Relative));
        return response.StatusCode == HttpStatusCode.OK;
    }
}

/// <summary>Address confirmation by email against a real SMTP server, and sign-in while it is required.</summary>
public sealed class EmailConfirmationTests
{
    private const string ConfirmSubject = "Confirm your email for T2I Studio";
    private const string ConfirmFirst = "Confirm your email address first: open the link we emailed you when you registered.";
    private const string Invalid = "Invalid email or password.";
    private const string Locked = "Too many failed sign-ins: this account is locked for 15 minutes.";

    private static Task<HttpResponseMessage> ResendAsync(HttpClient client, string email) =>
        TestAccounts.PostFormAsync(client, "/Account/ResendConfirmation", "resend-confirmation", new Dictionary<string, string> { ["Input.Email"] = email });

    private static async Task<string> SignInMessageAsync(HttpClient client, string email, string password) =>
        Assert.Single(await MailingApp.BannersAsync(await TestAccounts.SignInAsync(client, email, password)));

    [Fact]
    public async Task Registering_mails_a_link_that_confirms_the_address()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var app = MailingApp.Start(sink);
        using var client = app.CreateBrowserlikeClient();

        // Confirmation not required: registering signs in as before, and the email still asks to confirm.
        Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.RegisterAsync(client, "conf-open@example.test")).StatusCode);
        Assert.True(await MailingApp.IsSignedInAsync(client));
        var mail = await sink.WaitForAsync("conf-open@example.test");
        Assert.Equal(ConfirmSubject, mail.Subject);
        Assert.Contains("Confirm your email: http://localhost/Account/ConfirmEmail?userId=", mail.TextBody, StringComparison.Ordinal);
        Assert.Contains("href=\"http://localhost/Account/ConfirmEmail?userId=", mail.HtmlBody, StringComparison.Ordinal);
        Assert.False((await MailingApp.UserAsync(app, "conf-open@example.test")).EmailConfirmed);

        // The link works in another browser (no session needed), and again (it only confirms).
        using var other = app.CreateBrowserlikeClient();
        var link = MailingApp.LinkTo(mail, "/Account/ConfirmEmail");
        Assert.Equal([ConfirmEmail.ConfirmedMessage], await MailingApp.BannersAsync(await other.GetAsync(link)));
        Assert.True((await MailingApp.UserAsync(app, "conf-open@example.test")).EmailConfirmed);
        Assert.Equal([ConfirmEmail.ConfirmedMessage], await MailingApp.BannersAsync(await other.GetAsync(link)));
    }

    [Fact]
    public async Task A_confirmation_link_that_was_altered_or_belongs_to_another_account_is_refused_in_words()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var app = MailingApp.Start(sink);
        await app.CreateUserAsync("conf-other@example.test");
        using var client = app.CreateBrowserlikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.RegisterAsync(client, "conf-bad@example.test")).StatusCode);
        var link = MailingApp.LinkTo(await sink.WaitForAsync("conf-bad@example.test"), "/Account/ConfirmEmail").OriginalString;
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(new Uri(MailingApp.PublicBaseUrl), link).Query);
        var code = query["code"].ToString();
        var otherId = (await MailingApp.UserAsync(app, "conf-other@example.test")).Id;

        foreach (var bad in new[]
        {
            $"/Account/ConfirmEmail?userId={query["userId"]}&code={code[..^4]}AAAA",
            $"/Account/ConfirmEmail?userId={query["userId"]}&code=not*base64",
            $"/Account/ConfirmEmail?userId={otherId}&code={code}",
            $"/Account/ConfirmEmail?userId={query["userId"]}",
            "/Account/ConfirmEmail",
        })
        {
            Assert.Equal([ConfirmEmail.BadLinkMessage], await MailingApp.BannersAsync(await client.GetAsync(new Uri(bad, UriKind.Relative))));
        }
        Assert.False((await MailingApp.UserAsync(app, "conf-bad@example.test")).EmailConfirmed);
        Assert.False((await MailingApp.UserAsync(app, "conf-other@example.test")).EmailConfirmed);
    }

    [Fact]
    public async Task With_confirmation_required_the_first_account_is_not_signed_in_until_its_link_is_opened()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var app = MailingApp.Start(sink, ("Accounts:RequireConfirmedEmail", "true"));
        using var client = app.CreateBrowserlikeClient();

        var registered = await TestAccounts.RegisterAsync(client, "conf-admin@example.test");
        var html = await registered.Content.ReadAsStringAsync();
        Assert.Equal(["We sent a link to conf-admin@example.test to confirm your address. Open it, then sign in. The link works for one day."],
            await MailingApp.BannersAsync(registered));
        Assert.Contains("Check your email", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/Account/ResendConfirmation?email=conf-admin%40example.test\"", html, StringComparison.Ordinal);
        Assert.False(await MailingApp.IsSignedInAsync(client));

        // The right password says what is missing; a wrong one answers as for any account.
        Assert.Equal(ConfirmFirst, await SignInMessageAsync(client, "conf-admin@example.test", TestAccounts.Password));
        Assert.Equal(Invalid, await SignInMessageAsync(client, "conf-admin@example.test", "Wrong-password-1"));
        Assert.False(await MailingApp.IsSignedInAsync(client));

        var mail = await sink.WaitForAsync("conf-admin@example.test");
        Assert.Equal([ConfirmEmail.ConfirmedMessage], await MailingApp.BannersAsync(await client.GetAsync(MailingApp.LinkTo(mail, "/Account/ConfirmEmail"))));
        Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.SignInAsync(client, "conf-admin@example.test", TestAccounts.Password)).StatusCode);
        Assert.True(await MailingApp.IsSignedInAsync(client));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/admin", UriKind.Relative))).StatusCode); // still the administrator
    }

    [Fact]
    public async Task Wrong_passwords_on_an_unconfirmed_account_get_the_answers_of_an_unknown_email_and_lock_it_out()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var app = MailingApp.Start(sink, ("Accounts:RequireConfirmedEmail", "true"));
        var user = await app.CreateUserAsync("conf-guessed@example.test");
        Assert.False(user.EmailConfirmed);
        using var client = app.CreateBrowserlikeClient();

        var known = new List<string>();
        var unknown = new List<string>();
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            known.Add(await SignInMessageAsync(client, "conf-guessed@example.test", "Wrong-password-" + attempt));
            unknown.Add(await SignInMessageAsync(client, "conf-nobody@example.test", "Wrong-password-" + attempt));
        }
        Assert.Equal([.. Enumerable.Repeat(Invalid, 4), Locked], known);
        Assert.Equal(known, unknown);

        // Locked: even the right password no longer says that the account exists and waits for confirmation.
        Assert.Equal(Locked, await SignInMessageAsync(client, "conf-guessed@example.test", TestAccounts.Password));
        Assert.NotNull((await MailingApp.UserAsync(app, "conf-guessed@example.test")).LockoutEnd);
    }

    [Fact]
    public async Task Resend_answers_the_same_for_every_address_and_mails_only_an_unconfirmed_enabled_account()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var app = MailingApp.Start(sink);
        var admin = await app.CreateUserAsync("resend-admin@example.test");
        await app.CreateUserAsync("resend-waiting@example.test");
        var confirmed = await app.CreateUserAsync("resend-confirmed@example.test");
        var disabled = await app.CreateUserAsync("resend-disabled@example.test");
        using (var scope = app.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            var row = (await users.FindByIdAsync(confirmed.Id))!;
            row.EmailConfirmed = true;
            Assert.True((await users.UpdateAsync(row)).Succeeded);
            Assert.True((await scope.ServiceProvider.GetRequiredService<T2IStudio.Web.Auth.AccountAdministration>().SetDisabledAsync(admin.Id, disabled.Id, disabled: true)).Succeeded);
        }
        using var client = app.CreateBrowserlikeClient();

        var answers = new List<IReadOnlyList<string>>();
        foreach (var email in new[] { "resend-nobody@example.test", "resend-confirmed@example.test", "resend-disabled@example.test", " RESEND-waiting@example.test " })
        {
            var response = await ResendAsync(client, email);
            answers.Add(await MailingApp.BannersAsync(response));
            Assert.DoesNotContain("Input.Email", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.All(answers, a => Assert.Equal([ResendConfirmation.SentMessage], a));

        await MailingApp.DrainAsync(app, sink);
        var sent = sink.Messages().Where(m => !m.To.Mailboxes.First().Address.StartsWith("barrier-", StringComparison.Ordinal)).ToList();
        var only = Assert.Single(sent);
        Assert.Equal("resend-waiting@example.test", only.To.Mailboxes.Single().Address);
        Assert.Equal(ConfirmSubject, only.Subject);
        Assert.Equal([ConfirmEmail.ConfirmedMessage], await MailingApp.BannersAsync(await client.GetAsync(MailingApp.LinkTo(only, "/Account/ConfirmEmail"))));
    }

    [Fact]
    public async Task An_account_gets_at_most_one_confirmation_mail_per_two_minutes()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var app = MailingApp.Start(sink);
        await app.CreateUserAsync("resend-flood@example.test");
        using var client = app.CreateBrowserlikeClient();

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal([ResendConfirmation.SentMessage], await MailingApp.BannersAsync(await ResendAsync(client, "resend-flood@example.test")));
        }
        await MailingApp.DrainAsync(app, sink);
        Assert.Single(MailingApp.To(sink, "resend-flood@example.test"));

        // The limit is two minutes from the last mail, on the app's clock.
        using var scope = app.Services.CreateScope();
        AccountMail At(DateTimeOffset now) => new(scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>(), app.Services.GetRequiredService<StudioMail>(),
            new FakeTimeProvider(now), NullLogger<AccountMail>.Instance);
        var user = await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync("resend-flood@example.test");
        Assert.Equal(AccountMailOutcome.Throttled, await At(DateTimeOffset.UtcNow.AddSeconds(60)).SendConfirmationAsync(user!));
        Assert.Equal(AccountMailOutcome.Sent, await At(DateTimeOffset.UtcNow.AddMinutes(3)).SendConfirmationAsync(user!));
        await sink.WaitForAsync("resend-flood@example.test", _ => MailingApp.To(sink, "resend-flood@example.test").Count == 2);
    }

    [Fact]
    public async Task The_account_page_says_whether_the_address_is_confirmed_and_sends_a_link_on_request()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var app = MailingApp.Start(sink);
        await app.CreateUserAsync("manage-conf@example.test");
        using var client = app.CreateBrowserlikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.SignInAsync(client, "manage-conf@example.test", TestAccounts.Password)).StatusCode);

        var page = await (await client.GetAsync(new Uri("/Account/Manage", UriKind.Relative))).Content.ReadAsStringAsync();
        Assert.Contains("<dd data-testid=\"email-confirmation\">not confirmed</dd>", page, StringComparison.Ordinal);
        Assert.Contains(">Send confirmation link</button>", page, StringComparison.Ordinal);

        var sent = await TestAccounts.PostFormAsync(client, "/Account/Manage", "send-confirmation", new Dictionary<string, string>());
        Assert.Equal(["We sent a confirmation link to manage-conf@example.test. It works for one day."], await MailingApp.BannersAsync(sent));
        var again = await TestAccounts.PostFormAsync(client, "/Account/Manage", "send-confirmation", new Dictionary<string, string>());
        Assert.Equal(["A confirmation link went out less than two minutes ago: look for it in your inbox (and spam folder), or try again in a moment."],
            await MailingApp.BannersAsync(again));

        var mail = await sink.WaitForAsync("manage-conf@example.test");
        Assert.Equal([ConfirmEmail.ConfirmedMessage], await MailingApp.BannersAsync(await client.GetAsync(MailingApp.LinkTo(mail, "/Account/ConfirmEmail"))));
        page = await (await client.GetAsync(new Uri("/Account/Manage", UriKind.Relative))).Content.ReadAsStringAsync();
        Assert.Contains("<dd data-testid=\"email-confirmation\">confirmed</dd>", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Send confirmation link", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_email_registration_sends_nothing_and_resend_says_email_is_off()
    {
        using var app = new StudioAppFactory();
        using var client = app.CreateBrowserlikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.RegisterAsync(client, "no-mail@example.test")).StatusCode);

        var page = await client.GetAsync(new Uri("/Account/ResendConfirmation", UriKind.Relative));
        Assert.Equal([ResendConfirmation.EmailOffMessage], await MailingApp.BannersAsync(page));
        var html = await (await client.GetAsync(new Uri("/Account/Manage", UriKind.Relative))).Content.ReadAsStringAsync();
        Assert.Contains("not confirmed", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Send confirmation link", html, StringComparison.Ordinal);
    }
}
