using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Auth;
using T2IStudio.Web.Auth.Oidc;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>
/// Which account a company sign-in opens (<see cref="ExternalAccounts"/>, called with what a provider would say, no
/// provider needed): the linked one; the one with the same email only when both sides verified it; else a new one
/// under <c>Accounts:Registration</c>; and the refusals (domains, disabled, locked, link conflicts, unlinking the only way in).
/// </summary>
public sealed class OidcAccountMatchingTests
{
    private static StudioAppFactory App(
        RegistrationMode mode = RegistrationMode.Open, bool only = false, string? allowedDomain = "example.test", IDictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Accounts:Registration"] = mode.ToString(),
            ["Authentication:Oidc:Authority"] = "https://login.example.test",
            ["Authentication:Oidc:ClientId"] = "studio",
            ["Authentication:Oidc:DisplayName"] = "Example SSO",
            ["Authentication:Oidc:Only"] = only ? "true" : "false",
        };
        if (allowedDomain is not null)
        {
            settings["Authentication:Oidc:AllowedDomains:0"] = allowedDomain;
        }
        foreach (var (key, value) in more ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        return new(settings: settings);
    }

    private static ExternalIdentity Person(string email, bool verified = true, string? name = null, string? subject = null) =>
        new(subject ?? "sub-" + email, email, verified, name);

    private static async Task<ExternalSignIn> SignInAsync(StudioAppFactory app, ExternalIdentity identity, string? invite = null)
    {
        using var scope = app.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<ExternalAccounts>().SignInAsync(identity, invite);
    }

    private static async Task<T> WithAsync<T>(StudioAppFactory app, Func<IServiceProvider, Task<T>> work)
    {
        using var scope = app.Services.CreateScope();
        return await work(scope.ServiceProvider);
    }

    private static Task<IList<UserLoginInfo>> LoginsAsync(StudioAppFactory app, string email) =>
        WithAsync(app, async sp =>
        {
            var users = sp.GetRequiredService<UserManager<AppUser>>();
            return await users.GetLoginsAsync((await users.FindByEmailAsync(email))!);
        });

    private static async Task SetAsync(StudioAppFactory app, string email, Action<AppUser> change)
    {
        using var scope = app.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = (await users.FindByEmailAsync(email))!;
        change(user);
        Assert.True((await users.UpdateAsync(user)).Succeeded);
    }

    [Fact]
    public async Task The_first_company_sign_in_creates_the_administrator_with_the_providers_name_and_verification()
    {
        using var app = App(RegistrationMode.Closed);
        var first = await SignInAsync(app, Person("ada@example.test", verified: true, name: "Ada Lovelace"));
        Assert.True(first.Succeeded);
        Assert.True(first.Created);
        Assert.Equal("Ada Lovelace", first.User!.DisplayName);
        Assert.True(first.User.EmailConfirmed);
        var login = Assert.Single(await LoginsAsync(app, "ada@example.test"));
        Assert.Equal((OidcOptions.Scheme, "sub-ada@example.test", "ada@example.test"), (login.LoginProvider, login.ProviderKey, login.ProviderDisplayName));
        Assert.True(await WithAsync(app, async sp => await sp.GetRequiredService<UserManager<AppUser>>().IsInRoleAsync(first.User, AppDbContext.AdminRole)));
        Assert.False(await WithAsync(app, sp => sp.GetRequiredService<UserManager<AppUser>>().HasPasswordAsync(first.User)));

        // The same person again opens the same account, found by the provider's subject (the email may change there).
        var again = await SignInAsync(app, Person("ada@example.test", name: "Ada L.", subject: "sub-ada@example.test"));
        Assert.Equal((first.User.Id, false, false), (again.User?.Id, again.Created, again.Linked));

        // Closed: nobody else gets an account this way.
        Assert.Equal(ExternalRefusal.RegistrationClosed, (await SignInAsync(app, Person("bea@example.test"))).Refusal);
        Assert.Equal(1, await WithAsync(app, sp => sp.GetRequiredService<UserManager<AppUser>>().Users.CountAsync()));
    }

    [Fact]
    public async Task Open_registration_creates_accounts_and_keeps_an_unverified_email_unconfirmed()
    {
        using var app = App(RegistrationMode.Open, allowedDomain: null);
        await app.CreateUserAsync("admin@example.test");
        var created = await SignInAsync(app, Person("cleo@example.test", verified: false));
        Assert.True(created.Created);
        Assert.False(created.User!.EmailConfirmed);
        Assert.Equal("cleo", created.User.DisplayName);
        Assert.False(await WithAsync(app, sp => sp.GetRequiredService<UserManager<AppUser>>().IsInRoleAsync(created.User, AppDbContext.AdminRole)));
    }

    [Fact]
    public async Task Invite_only_needs_a_team_invitation_for_a_verified_email_or_an_unused_invite_link()
    {
        using var app = App(RegistrationMode.InviteOnly, allowedDomain: null);
        var admin = await app.CreateUserAsync("io-admin@example.test");
        Assert.Equal(ExternalRefusal.InvitationNeeded, (await SignInAsync(app, Person("io-stranger@example.test"))).Refusal);

        await WithAsync(app, async sp =>
        {
            var teams = sp.GetRequiredService<TeamService>();
            var teamId = (await teams.CreateAsync(StudioAppFactory.PrincipalOf(admin), "Crew")).Id!.Value;
            Assert.True((await teams.InviteAsync(StudioAppFactory.PrincipalOf(admin), teamId, "io-invited@example.test", TeamRole.Viewer)).Succeeded);
            return true;
        });
        // The invitation went to an address: an unverified claim to that address cannot take it.
        Assert.Equal(ExternalRefusal.UnverifiedInvitation, (await SignInAsync(app, Person("io-invited@example.test", verified: false))).Refusal);
        Assert.True((await SignInAsync(app, Person("io-invited@example.test", verified: true))).Created);

        var link = await WithAsync(app, sp => sp.GetRequiredService<AccountAdministration>().CreateInviteLinkAsync(admin.Id, new Uri("http://localhost/Account/Register")));
        var token = link.Url.Query["?invite=".Length..];
        Assert.Equal(ExternalRefusal.InvitationNeeded, (await SignInAsync(app, Person("io-link@example.test"), "not-a-token")).Refusal);
        Assert.True((await SignInAsync(app, Person("io-link@example.test"), token)).Created);
        Assert.Equal(ExternalRefusal.InvitationNeeded, (await SignInAsync(app, Person("io-reuse@example.test"), token)).Refusal);
    }

    [Fact]
    public async Task An_existing_account_is_linked_by_email_only_when_the_provider_and_this_studio_both_verified_it()
    {
        using var app = App(allowedDomain: null);
        await app.CreateUserAsync("dee@example.test");

        // Confirmed here, but the provider does not vouch for the address: refused, nothing linked.
        await SetAsync(app, "dee@example.test", u => u.EmailConfirmed = true);
        Assert.Equal(ExternalRefusal.EmailTaken, (await SignInAsync(app, Person("dee@example.test", verified: false))).Refusal);
        Assert.Empty(await LoginsAsync(app, "dee@example.test"));

        // Verified by the provider, but never confirmed here (someone may have registered another's address): refused.
        await SetAsync(app, "dee@example.test", u => u.EmailConfirmed = false);
        Assert.Equal(ExternalRefusal.EmailTaken, (await SignInAsync(app, Person("dee@example.test", verified: true))).Refusal);
        Assert.Empty(await LoginsAsync(app, "dee@example.test"));

        // Both: linked and signed in, the password kept.
        await SetAsync(app, "dee@example.test", u => u.EmailConfirmed = true);
        var linked = await SignInAsync(app, Person("DEE@example.test", verified: true));
        Assert.True(linked.Succeeded);
        Assert.True(linked.Linked);
        Assert.False(linked.Created);
        Assert.Single(await LoginsAsync(app, "dee@example.test"));

        // A second provider account with the same address cannot take the linked account over.
        Assert.Equal(ExternalRefusal.AlreadyLinked, (await SignInAsync(app, Person("dee@example.test", subject: "another-subject"))).Refusal);
    }

    [Fact]
    public async Task An_unverified_email_does_not_pass_the_allowed_domains_unless_the_studio_assumes_the_provider_verifies()
    {
        using var app = App();
        await app.CreateUserAsync("admin@example.test");
        // A self-service provider lets anyone claim an address in the company's domain: not verified, not let in.
        Assert.Equal(ExternalRefusal.EmailNotVerified, (await SignInAsync(app, Person("mallory@example.test", verified: false))).Refusal);
        Assert.Null(await WithAsync(app, sp => sp.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync("mallory@example.test")));
        // A linked account too: the domain rule holds only for an address the provider vouches for.
        Assert.True((await SignInAsync(app, Person("nia@example.test"))).Created);
        Assert.Equal(ExternalRefusal.EmailNotVerified, (await SignInAsync(app, Person("nia@example.test", verified: false))).Refusal);

        // A provider whose addresses are the company's own but that sends no email_verified (Entra ID): trusted when told.
        using var trusting = App(more: new Dictionary<string, string?> { ["Authentication:Oidc:AssumeVerifiedEmails"] = "true" });
        await trusting.CreateUserAsync("admin@example.test");
        var created = await SignInAsync(trusting, Person("oli@example.test", verified: false));
        Assert.True(created.Created);
        Assert.True(created.User!.EmailConfirmed);
        Assert.Equal(ExternalRefusal.DomainNotAllowed, (await SignInAsync(trusting, Person("oli@elsewhere.test", verified: false))).Refusal);
        // ... and such an email counts as verified for linking an account confirmed here.
        await trusting.CreateUserAsync("pam@example.test");
        await SetAsync(trusting, "pam@example.test", u => u.EmailConfirmed = true);
        Assert.True((await SignInAsync(trusting, Person("pam@example.test", verified: false))).Linked);
    }

    [Fact]
    public async Task With_confirmed_emails_required_an_unverified_company_email_is_refused_before_any_account_is_made()
    {
        using var app = App(allowedDomain: null, more: new Dictionary<string, string?>
        {
            ["Accounts:RequireConfirmedEmail"] = "true",
            ["Email:Smtp:Host"] = "127.0.0.1",
            ["Email:Smtp:Port"] = "2525",
            ["Email:Smtp:From"] = "studio@example.test",
            ["Network:PublicBaseUrl"] = "https://studio.example.test",
        });
        await app.CreateUserAsync("admin@example.test");
        var refused = await SignInAsync(app, Person("quinn@example.test", verified: false));
        Assert.Equal(ExternalRefusal.EmailNotVerified, refused.Refusal);
        Assert.Null(await WithAsync(app, sp => sp.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync("quinn@example.test")));
        Assert.Contains("did not verify your email address", ExternalRefusals.Message(refused.Refusal, new OidcOptions { DisplayName = "Example SSO" }), StringComparison.Ordinal);

        var verified = await SignInAsync(app, Person("quinn@example.test", verified: true));
        Assert.True(verified.Succeeded);
        Assert.True(verified.User!.EmailConfirmed);
    }

    [Fact]
    public async Task Provider_emails_outside_ascii_are_refused_and_linking_by_email_needs_the_same_address()
    {
        using var app = App(allowedDomain: null);
        await app.CreateUserAsync("sam@example.test");
        await SetAsync(app, "sam@example.test", u => u.EmailConfirmed = true);
        // U+017F upper-cases to S: Identity's lookup would find sam@example.test. Refused, nothing linked or made.
        Assert.Equal(ExternalRefusal.EmailNotAscii, (await SignInAsync(app, Person("\u017Fam@example.test"))).Refusal);
        Assert.Empty(await LoginsAsync(app, "sam@example.test"));
        // The Kelvin sign lower-cases to k: it does not pass a domain check as "k".
        using var restricted = App(allowedDomain: "kelvin.test");
        Assert.Equal(ExternalRefusal.EmailNotAscii, (await SignInAsync(restricted, Person("x@\u212Aelvin.test"))).Refusal);

        // A stored address that only folds to the provider's (made before this rule) is not linked to it.
        var tam = await app.CreateUserAsync("tam@example.test");
        await SetAsync(app, "tam@example.test", u => { u.Email = "ta\u017F@example.test"; u.EmailConfirmed = true; });
        Assert.Equal(ExternalRefusal.EmailTaken, (await SignInAsync(app, Person("tas@example.test"))).Refusal);
        Assert.Empty(await WithAsync(app, async sp => await sp.GetRequiredService<UserManager<AppUser>>().GetLoginsAsync(
            (await sp.GetRequiredService<UserManager<AppUser>>().FindByIdAsync(tam.Id))!)));
        // The same address up to ASCII case is linked.
        Assert.True((await SignInAsync(app, Person("SAM@Example.Test"))).Linked);
    }

    [Fact]
    public async Task Disabled_and_locked_accounts_stay_out_whatever_the_provider_says()
    {
        using var app = App();
        Assert.True((await SignInAsync(app, Person("eve@example.test"))).Created);
        await SetAsync(app, "eve@example.test", u => u.IsDisabled = true);
        Assert.Equal(ExternalRefusal.Disabled, (await SignInAsync(app, Person("eve@example.test"))).Refusal);

        await SetAsync(app, "eve@example.test", u => { u.IsDisabled = false; u.LockoutEnd = DateTimeOffset.UtcNow.AddMinutes(10); });
        Assert.Equal(ExternalRefusal.LockedOut, (await SignInAsync(app, Person("eve@example.test"))).Refusal);

        // A disabled account is not linked by email either.
        await app.CreateUserAsync("fay@example.test");
        await SetAsync(app, "fay@example.test", u => { u.EmailConfirmed = true; u.IsDisabled = true; });
        Assert.Equal(ExternalRefusal.Disabled, (await SignInAsync(app, Person("fay@example.test"))).Refusal);
        Assert.Empty(await LoginsAsync(app, "fay@example.test"));
    }

    [Fact]
    public async Task Emails_outside_the_allowed_domains_and_missing_emails_are_refused_even_for_linked_accounts()
    {
        using var app = App(allowedDomain: "example.test");
        Assert.True((await SignInAsync(app, Person("gus@example.test"))).Created);
        Assert.Equal(ExternalRefusal.DomainNotAllowed, (await SignInAsync(app, Person("gus@elsewhere.test", subject: "sub-gus@example.test"))).Refusal);
        Assert.Equal(ExternalRefusal.DomainNotAllowed, (await SignInAsync(app, Person("x@sub.example.test"))).Refusal);
        Assert.Equal(ExternalRefusal.DomainNotAllowed, (await SignInAsync(app, Person("x@example.test.evil.test"))).Refusal);
        Assert.Equal(ExternalRefusal.EmailMissing, (await SignInAsync(app, new ExternalIdentity("sub-gus@example.test", null, true, null))).Refusal);
        Assert.True((await SignInAsync(app, Person("hal@EXAMPLE.TEST"))).Created);
    }

    [Fact]
    public async Task Linking_from_the_account_page_refuses_a_provider_account_linked_elsewhere_and_unlinking_keeps_a_way_in()
    {
        using var app = App();
        var ivy = await app.CreateUserAsync("ivy@example.test");
        var jo = await app.CreateUserAsync("jo@example.test");
        Task<ExternalRefusal> LinkAsync(AppUser user, ExternalIdentity identity) =>
            WithAsync(app, async sp => await sp.GetRequiredService<ExternalAccounts>().LinkAsync(
                (await sp.GetRequiredService<UserManager<AppUser>>().FindByIdAsync(user.Id))!, identity));
        Task<ExternalRefusal> UnlinkAsync(AppUser user) =>
            WithAsync(app, async sp => await sp.GetRequiredService<ExternalAccounts>().UnlinkAsync(
                (await sp.GetRequiredService<UserManager<AppUser>>().FindByIdAsync(user.Id))!));

        // Any address the person proves at the provider, within the allowed domains.
        Assert.Equal(ExternalRefusal.DomainNotAllowed, await LinkAsync(ivy, Person("ivy@elsewhere.test")));
        Assert.Equal(ExternalRefusal.EmailNotVerified, await LinkAsync(ivy, Person("ivy.work@example.test", verified: false)));
        Assert.Equal(ExternalRefusal.None, await LinkAsync(ivy, Person("ivy.work@example.test")));
        Assert.Equal("ivy.work@example.test", Assert.Single(await LoginsAsync(app, "ivy@example.test")).ProviderDisplayName);
        Assert.Equal(ExternalRefusal.LinkedElsewhere, await LinkAsync(jo, Person("ivy.work@example.test")));
        Assert.Equal(ExternalRefusal.AlreadyLinked, await LinkAsync(ivy, Person("ivy.other@example.test")));

        // Ivy has a password: unlinking leaves her a way in.
        Assert.Equal(ExternalRefusal.None, await UnlinkAsync(ivy));
        Assert.Empty(await LoginsAsync(app, "ivy@example.test"));

        // An account made by a company sign-in has no password: its login is its only way in.
        var kit = (await SignInAsync(app, Person("kit@example.test"))).User!;
        Assert.Equal(ExternalRefusal.OnlyWayIn, await UnlinkAsync(kit));
        Assert.Single(await LoginsAsync(app, "kit@example.test"));
    }

    [Fact]
    public async Task With_passwords_off_nobody_can_unlink_their_company_login()
    {
        using var app = App(only: true);
        var lou = await app.CreateUserAsync("lou@example.test");
        await SetAsync(app, "lou@example.test", u => u.EmailConfirmed = true);
        Assert.True((await SignInAsync(app, Person("lou@example.test"))).Linked);
        var refusal = await WithAsync(app, async sp => await sp.GetRequiredService<ExternalAccounts>().UnlinkAsync(
            (await sp.GetRequiredService<UserManager<AppUser>>().FindByIdAsync(lou.Id))!));
        Assert.Equal(ExternalRefusal.OnlyWayIn, refusal);
        Assert.Single(await LoginsAsync(app, "lou@example.test"));
    }

    [Fact]
    public void The_provider_claims_are_read_by_the_configured_names()
    {
        var options = new OidcOptions { Authority = "https://login.example.test", ClientId = "studio", EmailClaim = "upn", NameClaim = "given_name" };
        var principal = new ClaimsPrincipal(new ClaimsIdentity(
        [
            new Claim("sub", "abc"), new Claim("upn", " max@example.test "), new Claim("email", "other@example.test"),
            new Claim("given_name", "Max"), new Claim("email_verified", "True"),
        ], "oidc"));
        Assert.Equal(new ExternalIdentity("abc", "max@example.test", true, "Max"), ExternalIdentity.From(principal, options));

        var unverified = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", "abc"), new Claim("email", "a@example.test")], "oidc"));
        Assert.Equal(new ExternalIdentity("abc", "a@example.test", false, null), ExternalIdentity.From(unverified, new OidcOptions()));
        Assert.Null(ExternalIdentity.From(new ClaimsPrincipal(new ClaimsIdentity([new Claim("email", "a@example.test")], "oidc")), new OidcOptions()));
    }

    [Fact]
    public void Every_refusal_has_a_sentence_and_a_code_that_round_trips_through_the_sign_in_address()
    {
        var options = new OidcOptions { DisplayName = "Example SSO", AllowedDomains = ["example.test", "example.org"] };
        foreach (var refusal in Enum.GetValues<ExternalRefusal>().Where(r => r != ExternalRefusal.None))
        {
            Assert.False(string.IsNullOrWhiteSpace(ExternalRefusals.Message(refusal, options)), refusal.ToString());
            Assert.Equal(refusal, ExternalRefusals.FromCode(ExternalRefusals.Code(refusal)));
            Assert.Equal(ExternalRefusals.Message(refusal, options), ExternalRefusals.ForStatus("external-" + ExternalRefusals.Code(refusal), options));
        }
        Assert.Equal("domain-not-allowed", ExternalRefusals.Code(ExternalRefusal.DomainNotAllowed));
        Assert.Equal("Your Example SSO account's email is not in an allowed domain for this studio (example.test, example.org).",
            ExternalRefusals.Message(ExternalRefusal.DomainNotAllowed, options));
        Assert.Null(ExternalRefusals.ForStatus("signedout", options));
        Assert.Null(ExternalRefusals.ForStatus("external-none", options));
        Assert.Null(ExternalRefusals.ForStatus("external-<script>", options));
    }
}
