using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Auth;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary><c>Accounts:Registration</c> (Open, InviteOnly, Closed) over the real register form, and the single first administrator.</summary>
public class RegistrationTests
{
    /// <summary>The app under test, as <c>NewApp(storageRoot, settings)</c>; a derived class runs the same tests on another engine.</summary>
    protected virtual StudioAppFactory NewApp(string? storageRoot = null, IDictionary<string, string?>? settings = null) => new(storageRoot, settings);

    private StudioAppFactory App(RegistrationMode mode) =>
        NewApp(settings: new Dictionary<string, string?> { ["Accounts:Registration"] = mode.ToString() });

    private static async Task<int> AccountsAsync(StudioAppFactory app)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        return await db.Users.CountAsync();
    }

    private static async Task<List<string>> AdminEmailsAsync(StudioAppFactory app)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        return await (from ur in db.UserRoles
                      join r in db.Roles on ur.RoleId equals r.Id
                      join u in db.Users on ur.UserId equals u.Id
                      where r.Name == AppDbContext.AdminRole
                      select u.Email!).ToListAsync();
    }

    [Fact]
    public async Task Closed_registration_refuses_everyone_but_the_first_account_of_an_empty_install()
    {
        using var app = App(RegistrationMode.Closed);
        using var client = app.CreateBrowserlikeClient();

        // An empty install is not bricked: its first account is created, and it is the administrator.
        var page = await (await client.GetAsync(new Uri("/Account/Register", UriKind.Relative))).Content.ReadAsStringAsync();
        Assert.Contains("Nobody has an account here yet: this one becomes the administrator.", TestAccounts.Banners(page));
        Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.RegisterAsync(client, "closed-first@example.test")).StatusCode);
        Assert.Equal(["closed-first@example.test"], await AdminEmailsAsync(app));

        // From then on the page says so and shows no form, and a hand-made post is refused in words.
        using var other = app.CreateBrowserlikeClient();
        var closed = await other.GetAsync(new Uri("/Account/Register", UriKind.Relative));
        var html = await closed.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, closed.StatusCode);
        Assert.Equal([AccountRegistration.ClosedMessage], TestAccounts.Banners(html));
        Assert.DoesNotContain("Input.Email", html, StringComparison.Ordinal);
        var post = await TestAccounts.PostWithoutFormAsync(other, "/Account/Register", "register",
            new Dictionary<string, string> { ["Input.Email"] = "closed-second@example.test", ["Input.Password"] = TestAccounts.Password });
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.Equal([AccountRegistration.ClosedMessage], TestAccounts.Banners(await post.Content.ReadAsStringAsync()));
        Assert.Equal(1, await AccountsAsync(app));
    }

    [Fact]
    public async Task Invite_only_registration_needs_a_team_invitation_for_the_email_or_an_unused_unexpired_invite_link()
    {
        using var app = App(RegistrationMode.InviteOnly);
        using (var first = app.CreateBrowserlikeClient())
        {
            Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.RegisterAsync(first, "io-admin@example.test")).StatusCode);
        }

        // No invitation: refused, with what would help.
        using (var stranger = app.CreateBrowserlikeClient())
        {
            var refused = await TestAccounts.RegisterAsync(stranger, "io-stranger@example.test");
            Assert.Equal([AccountRegistration.InvitationNeededMessage], TestAccounts.Banners(await refused.Content.ReadAsStringAsync()));
        }
        Assert.Equal(1, await AccountsAsync(app));

        // A team invitation for the email lets that email register (and the invitation waits for them).
        AppUser admin;
        using (var scope = app.Services.CreateScope())
        {
            admin = (await scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<AppUser>>().FindByEmailAsync("io-admin@example.test"))!;
            var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
            var teamId = (await teams.CreateAsync(StudioAppFactory.PrincipalOf(admin), "Crew")).Id!.Value;
            Assert.True((await teams.InviteAsync(StudioAppFactory.PrincipalOf(admin), teamId, "io-invited@example.test", TeamRole.Viewer)).Succeeded);
        }
        using (var invited = app.CreateBrowserlikeClient())
        {
            Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.RegisterAsync(invited, "io-invited@example.test")).StatusCode);
            Assert.Contains("Crew", await (await invited.GetAsync(new Uri("/teams", UriKind.Relative))).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // An admin's invite link registers exactly one account, whatever the email.
        InviteLinkCreated link;
        using (var scope = app.Services.CreateScope())
        {
            link = await scope.ServiceProvider.GetRequiredService<AccountAdministration>().CreateInviteLinkAsync(admin.Id, new Uri("http://localhost/Account/Register"));
        }
        Assert.Equal("/Account/Register", link.Url.AbsolutePath);
        using (var linked = app.CreateBrowserlikeClient())
        {
            var form = await (await linked.GetAsync(new Uri(link.Url.PathAndQuery, UriKind.Relative))).Content.ReadAsStringAsync();
            Assert.Contains("Your invite link lets you create one account.", TestAccounts.Banners(form));
            Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.RegisterWithQueryAsync(linked, link.Url.Query, "io-linked@example.test")).StatusCode);
        }
        using (var reuse = app.CreateBrowserlikeClient())
        {
            var used = await reuse.GetAsync(new Uri(link.Url.PathAndQuery, UriKind.Relative));
            Assert.Equal([AccountRegistration.BadInviteLinkMessage], TestAccounts.Banners(await used.Content.ReadAsStringAsync()));
            var again = await TestAccounts.PostWithoutFormAsync(reuse, link.Url.PathAndQuery, "register",
                new Dictionary<string, string> { ["Input.Email"] = "io-reuse@example.test", ["Input.Password"] = TestAccounts.Password });
            Assert.Equal([AccountRegistration.BadInviteLinkMessage], TestAccounts.Banners(await again.Content.ReadAsStringAsync()));
        }

        // The token is stored only hashed, and an expired link registers nobody.
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync())
        {
            var token = link.Url.Query["?invite=".Length..];
            var stored = await db.InviteLinks.SingleAsync();
            Assert.Equal(AccountRegistration.HashToken(token), stored.TokenHash);
            Assert.DoesNotContain(token, stored.TokenHash, StringComparison.Ordinal);
            Assert.NotNull(stored.UsedAt);
        }
        InviteLinkCreated expired;
        using (var scope = app.Services.CreateScope())
        {
            expired = await scope.ServiceProvider.GetRequiredService<AccountAdministration>().CreateInviteLinkAsync(admin.Id, new Uri("http://localhost/Account/Register"));
        }
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync())
        {
            var row = await db.InviteLinks.SingleAsync(l => l.UsedAt == null);
            row.ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(-1);
            await db.SaveChangesAsync();
        }
        using (var late = app.CreateBrowserlikeClient())
        {
            var post = await TestAccounts.PostWithoutFormAsync(late, expired.Url.PathAndQuery, "register",
                new Dictionary<string, string> { ["Input.Email"] = "io-late@example.test", ["Input.Password"] = TestAccounts.Password });
            Assert.Equal([AccountRegistration.BadInviteLinkMessage], TestAccounts.Banners(await post.Content.ReadAsStringAsync()));
        }
        Assert.Equal(3, await AccountsAsync(app));
        Assert.Equal(["io-admin@example.test"], await AdminEmailsAsync(app));
    }

    [Fact]
    public async Task Ten_concurrent_first_registrations_make_exactly_one_administrator()
    {
        using var app = App(RegistrationMode.Open);
        _ = app.Server;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registrations = Enumerable.Range(0, 10).Select(i => Task.Run(async () =>
        {
            using var scope = app.Services.CreateScope();
            var registration = scope.ServiceProvider.GetRequiredService<AccountRegistration>();
            await start.Task;
            return await registration.RegisterAsync($"racer{i}@example.test", null, TestAccounts.Password, null);
        })).ToList();
        start.SetResult();
        var results = await Task.WhenAll(registrations);

        Assert.All(results, r => Assert.True(r.Succeeded, string.Join(" ", r.Errors)));
        Assert.Single(results, r => r.IsAdmin);
        var admins = await AdminEmailsAsync(app);
        Assert.Equal([results.Single(r => r.IsAdmin).User!.Email!], admins);
        Assert.Equal(10, await AccountsAsync(app));
    }

    [Fact]
    public async Task Ten_concurrent_first_registrations_over_http_make_exactly_one_administrator()
    {
        using var app = App(RegistrationMode.Closed);
        var clients = Enumerable.Range(0, 10).Select(_ => app.CreateBrowserlikeClient()).ToList();
        try
        {
            // Closed: only the first account of the empty install may register, so exactly one post succeeds.
            // (The antiforgery token comes from the sign-in page: the register form may already be gone for the later ones.)
            var responses = await Task.WhenAll(clients.Select((client, i) => TestAccounts.PostWithoutFormAsync(client, "/Account/Register", "register",
                new Dictionary<string, string> { ["Input.Email"] = $"http-racer{i}@example.test", ["Input.Password"] = TestAccounts.Password })));
            Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Redirect);
            Assert.Equal(9, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
            Assert.Equal(1, await AccountsAsync(app));
            Assert.Single(await AdminEmailsAsync(app));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }
}
