using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Email;

/// <summary>
/// The account page's email section: a person switches the review and comment emails on and off (off by default);
/// without SMTP it says email is off, and the rest of the app works as without email.
/// </summary>
public sealed class EmailSettingsPageTests(MailApp mail) : IClassFixture<MailApp>
{
    private const string Label = "Email me when someone reviews or comments on my images";

    private static async Task<bool> OptedInAsync(StudioAppFactory app, string userId)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        return await db.Users.Where(u => u.Id == userId).Select(u => u.EmailOnImageActivity).SingleAsync();
    }

    private static Task<HttpResponseMessage> SaveAsync(HttpClient client, bool on)
    {
        var fields = new Dictionary<string, string> { ["Input.Submitted"] = "true" };
        if (on)
        {
            // What a browser posts for a ticked box; an unticked one is not posted at all.
            fields["Input.OnImageActivity"] = "true";
        }
        return TestAccounts.PostFormAsync(client, "/Account/Manage", "email-settings", fields);
    }

    [Fact]
    public async Task A_person_switches_the_notices_on_and_off_and_the_page_shows_what_is_saved()
    {
        var user = await mail.App.CreateUserAsync("settings@example.test");
        using var client = mail.App.CreateBrowserlikeClient();
        await TestAccounts.SignInAsync(client, user.Email!, TestAccounts.Password);

        var page = await (await client.GetAsync(new Uri("/Account/Manage", UriKind.Relative))).Content.ReadAsStringAsync();
        Assert.Matches($"<label[^>]* for=\"email-on-image-activity\"[^>]*>{Label}</label>", page);
        Assert.DoesNotContain("checked", Checkbox(page), StringComparison.Ordinal);
        Assert.Matches("<button[^>]* type=\"submit\"[^>]*>Save</button>", page);
        Assert.False(await OptedInAsync(mail.App, user.Id));

        var on = await SaveAsync(client, on: true);
        Assert.Equal(HttpStatusCode.OK, on.StatusCode);
        var saved = await on.Content.ReadAsStringAsync();
        Assert.Contains("Saved: you get an email when someone reviews or comments on your images.", TestAccounts.Banners(saved));
        Assert.Contains("checked", Checkbox(saved), StringComparison.Ordinal);
        Assert.True(await OptedInAsync(mail.App, user.Id));
        // Shown again on the next visit.
        Assert.Contains("checked", Checkbox(await (await client.GetAsync(new Uri("/Account/Manage", UriKind.Relative))).Content.ReadAsStringAsync()), StringComparison.Ordinal);

        var off = await (await SaveAsync(client, on: false)).Content.ReadAsStringAsync();
        Assert.Contains("Saved: you get no email about reviews and comments.", TestAccounts.Banners(off));
        Assert.DoesNotContain("checked", Checkbox(off), StringComparison.Ordinal);
        Assert.False(await OptedInAsync(mail.App, user.Id));
    }

    [Fact]
    public async Task An_unconfirmed_address_is_told_the_emails_wait_for_confirmation()
    {
        var user = await mail.App.CreateUserAsync("settings-unconfirmed@example.test");
        using var client = mail.App.CreateBrowserlikeClient();
        await TestAccounts.SignInAsync(client, user.Email!, TestAccounts.Password);

        var page = await (await client.GetAsync(new Uri("/Account/Manage", UriKind.Relative))).Content.ReadAsStringAsync();

        Assert.Contains("settings-unconfirmed@example.test is not confirmed yet, so these emails wait until it is.", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_smtp_the_page_says_email_is_off_and_invitations_work_as_before()
    {
        using var app = new StudioAppFactory();
        var owner = await app.CreateUserAsync("off-owner@example.test");
        using var client = app.CreateBrowserlikeClient();
        await TestAccounts.SignInAsync(client, owner.Email!, TestAccounts.Password);

        var page = await (await client.GetAsync(new Uri("/Account/Manage", UriKind.Relative))).Content.ReadAsStringAsync();
        Assert.Contains("Email is off on this server.", page, StringComparison.Ordinal);
        Assert.DoesNotContain(Label, page, StringComparison.Ordinal);

        using var scope = app.Services.CreateScope();
        var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
        var teamId = (await teams.CreateAsync(StudioAppFactory.PrincipalOf(owner), "Offline")).Id!.Value;
        var invited = await teams.InviteAsync(StudioAppFactory.PrincipalOf(owner), teamId, "off-invitee@example.test", TeamRole.Viewer);
        Assert.True(invited.Succeeded);
        Assert.Equal("Invitation sent to off-invitee@example.test. They join when they accept it.", invited.Message);
        Assert.False(scope.ServiceProvider.GetRequiredService<T2IStudio.Web.Email.StudioMail>().IsEnabled);
    }

    private static string Checkbox(string html)
    {
        var match = System.Text.RegularExpressions.Regex.Match(html, "<input[^>]*id=\"email-on-image-activity\"[^>]*>");
        Assert.True(match.Success, "The page has no notice checkbox.");
        return match.Value;
    }
}
