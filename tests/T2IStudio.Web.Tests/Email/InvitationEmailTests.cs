using System.Net;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data.Entities;
using T2IStudio.Testing;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Email;

/// <summary>
/// Team invitations by email, through a real SMTP server: the message names the inviter, team and role, carries
/// nothing secret, and its link opens the invitation: registration for a new address (which returns to it), the
/// Teams page for an account (highlighted there for that account only).
/// </summary>
public sealed class InvitationEmailTests(MailApp mail) : IClassFixture<MailApp>
{
    private StudioAppFactory App => mail.App;

    private async Task<(AppUser Owner, Guid TeamId)> TeamAsync(string tag, string teamName)
    {
        var owner = await ConfirmedUserAsync($"{tag}-owner@example.test", displayName: "Olga");
        using var scope = App.Services.CreateScope();
        var teamId = (await scope.ServiceProvider.GetRequiredService<TeamService>().CreateAsync(StudioAppFactory.PrincipalOf(owner), teamName)).Id!.Value;
        return (owner, teamId);
    }

    /// <summary>An account whose address is confirmed (as by the confirmation email's link).</summary>
    private async Task<AppUser> ConfirmedUserAsync(string email, string? displayName = null)
    {
        var user = await App.CreateUserAsync(email, displayName: displayName);
        using var scope = App.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<AppUser>>();
        var stored = (await users.FindByIdAsync(user.Id))!;
        Assert.True((await users.ConfirmEmailAsync(stored, await users.GenerateEmailConfirmationTokenAsync(stored))).Succeeded);
        return stored;
    }

    private async Task<ChangeResult> InviteAsync(AppUser owner, Guid teamId, string email, TeamRole role)
    {
        using var scope = App.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<TeamService>().InviteAsync(StudioAppFactory.PrincipalOf(owner), teamId, email, role);
    }

    private async Task<Guid> PendingInvitationIdAsync(AppUser owner, Guid teamId, string email)
    {
        using var scope = App.Services.CreateScope();
        var team = await scope.ServiceProvider.GetRequiredService<TeamService>().GetAsync(StudioAppFactory.PrincipalOf(owner), teamId);
        return team!.Invitations.Single(i => i.Email == email).Id;
    }

    [Fact]
    public async Task A_new_address_gets_an_email_whose_link_registers_it_and_lands_on_the_highlighted_invitation_it_can_accept()
    {
        var (owner, teamId) = await TeamAsync("new", "Poster <crew>");
        const string email = "new-invitee@example.test";

        var invited = await InviteAsync(owner, teamId, email, TeamRole.Editor);

        Assert.True(invited.Succeeded, string.Join(" ", invited.Errors));
        Assert.Equal($"Invitation sent to {email}. They join when they accept it. An email is on its way.", invited.Message);
        var invitationId = await PendingInvitationIdAsync(owner, teamId, email);
        var message = await mail.Sink.WaitForAsync(email);
        Assert.Equal("You are invited to join a team on T2I Studio", message.Subject);
        Assert.Contains("Olga invited you to the team “Poster <crew>” on T2I Studio as an editor", message.TextBody, StringComparison.Ordinal);
        Assert.Contains($"Create your account with this address ({email})", message.TextBody, StringComparison.Ordinal);
        Assert.Contains("Poster &lt;crew&gt;", message.HtmlBody, StringComparison.Ordinal);
        Assert.DoesNotContain("<crew>", message.HtmlBody, StringComparison.Ordinal);
        var link = SmtpSink.LinkIn(message, MailApp.PublicBaseUrl);
        Assert.Equal($"{MailApp.PublicBaseUrl}/Account/Register?ReturnUrl=%2Fteams%3Finvitation%3D{invitationId}", link.AbsoluteUri);
        Assert.Contains($"href=\"{link.AbsoluteUri}\"", message.HtmlBody, StringComparison.Ordinal);

        // Following it: registration (invite-only here) takes the invited address and returns to the invitation.
        using var client = App.CreateBrowserlikeClient();
        var registered = await TestAccounts.RegisterWithQueryAsync(client, link.Query, email);
        Assert.Equal(HttpStatusCode.Redirect, registered.StatusCode);
        Assert.EndsWith($"/teams?invitation={invitationId}", registered.Headers.Location!.OriginalString, StringComparison.Ordinal);
        // Anyone may register any address: until the confirmation email's link proves it, the invitation waits.
        var unconfirmed = await (await client.GetAsync(new Uri($"/teams?invitation={invitationId}", UriKind.Relative))).Content.ReadAsStringAsync();
        Assert.Contains("Confirm your email address to accept invitations", unconfirmed, StringComparison.Ordinal);
        Assert.Contains("href=\"/Account/ResendConfirmation\"", unconfirmed, StringComparison.Ordinal);
        Assert.DoesNotContain("Poster", unconfirmed, StringComparison.Ordinal);
        Assert.DoesNotContain("not waiting for this account", unconfirmed, StringComparison.Ordinal);
        using (var unprovedScope = App.Services.CreateScope())
        {
            var unproved = await unprovedScope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<AppUser>>().FindByEmailAsync(email);
            Assert.True((await unprovedScope.ServiceProvider.GetRequiredService<TeamService>().AcceptInvitationAsync(StudioAppFactory.PrincipalOf(unproved!), invitationId)).NotFound);
        }
        var confirmation = await mail.Sink.WaitForAsync(email, m => m.TextBody?.Contains("/Account/ConfirmEmail", StringComparison.Ordinal) == true);
        Assert.True((await client.GetAsync(new Uri(SmtpSink.LinkIn(confirmation, MailApp.PublicBaseUrl + "/Account/ConfirmEmail").PathAndQuery, UriKind.Relative))).IsSuccessStatusCode);

        var teams = await (await client.GetAsync(new Uri($"/teams?invitation={invitationId}", UriKind.Relative))).Content.ReadAsStringAsync();
        Assert.DoesNotContain("Confirm your email address", teams, StringComparison.Ordinal);
        Assert.Contains("data-opened=\"true\"", teams, StringComparison.Ordinal);
        Assert.Contains("The invitation you opened", teams, StringComparison.Ordinal);
        Assert.Contains("Accept the invitation to Poster &lt;crew&gt;", teams, StringComparison.Ordinal);
        Assert.DoesNotContain("not waiting for this account", teams, StringComparison.Ordinal);

        using var scope = App.Services.CreateScope();
        var service = scope.ServiceProvider.GetRequiredService<TeamService>();
        var newcomer = await scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<AppUser>>().FindByEmailAsync(email);
        Assert.True((await service.AcceptInvitationAsync(StudioAppFactory.PrincipalOf(newcomer!), invitationId)).Succeeded);
        Assert.Equal(TeamRole.Editor, await service.RoleOfAsync(StudioAppFactory.PrincipalOf(newcomer!), teamId));
    }

    [Fact]
    public async Task An_account_gets_a_link_to_its_teams_page_where_only_it_sees_the_invitation_highlighted()
    {
        var (owner, teamId) = await TeamAsync("existing", "Moodboards");
        var invitee = await ConfirmedUserAsync("existing-invitee@example.test");
        var other = await ConfirmedUserAsync("existing-other@example.test");

        Assert.True((await InviteAsync(owner, teamId, "Existing-Invitee@example.test", TeamRole.Viewer)).Succeeded);

        var invitationId = await PendingInvitationIdAsync(owner, teamId, "Existing-Invitee@example.test");
        var message = await mail.Sink.WaitForAsync(invitee.Email!);
        Assert.Equal("You are invited to join a team on T2I Studio", message.Subject);
        Assert.Contains("Olga invited you to the team “Moodboards”", message.TextBody, StringComparison.Ordinal);
        Assert.Contains("as a viewer", message.TextBody, StringComparison.Ordinal);
        Assert.Contains("Sign in as Existing-Invitee@example.test to accept or decline it.", message.TextBody, StringComparison.Ordinal);
        var link = SmtpSink.LinkIn(message, MailApp.PublicBaseUrl);
        Assert.Equal($"{MailApp.PublicBaseUrl}/teams?invitation={invitationId}", link.AbsoluteUri);
        // Nothing in it that grants anything: the invitation is bound to the address, and the account accepts it.
        Assert.DoesNotContain("invite=", message.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("token", message.TextBody, StringComparison.OrdinalIgnoreCase);

        using (var client = App.CreateBrowserlikeClient())
        {
            // Signed out, the link asks for a sign-in that comes back to it.
            var anonymous = await client.GetAsync(new Uri(link.PathAndQuery, UriKind.Relative));
            Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
            Assert.Contains("Account/Login", anonymous.Headers.Location!.OriginalString, StringComparison.Ordinal);
            Assert.Contains(Uri.EscapeDataString($"/teams?invitation={invitationId}"), anonymous.Headers.Location.OriginalString, StringComparison.Ordinal);

            await TestAccounts.SignInAsync(client, invitee.Email!, TestAccounts.Password);
            var page = await (await client.GetAsync(new Uri(link.PathAndQuery, UriKind.Relative))).Content.ReadAsStringAsync();
            Assert.Contains("data-opened=\"true\"", page, StringComparison.Ordinal);
            Assert.Contains("Accept the invitation to Moodboards", page, StringComparison.Ordinal);
        }
        using (var client = App.CreateBrowserlikeClient())
        {
            // Another account following the same link learns nothing of the team, only that it is not theirs.
            await TestAccounts.SignInAsync(client, other.Email!, TestAccounts.Password);
            var page = await (await client.GetAsync(new Uri(link.PathAndQuery, UriKind.Relative))).Content.ReadAsStringAsync();
            Assert.DoesNotContain("Moodboards", page, StringComparison.Ordinal);
            Assert.DoesNotContain("data-opened", page, StringComparison.Ordinal);
            Assert.Contains("The invitation you opened is not waiting for this account", page, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Inviting_the_same_address_again_within_minutes_sends_no_second_email_but_changes_the_role()
    {
        var (owner, teamId) = await TeamAsync("again", "Again");
        const string email = "again-invitee@example.test";
        Assert.True((await InviteAsync(owner, teamId, email, TeamRole.Viewer)).Succeeded);
        await mail.Sink.WaitForAsync(email);

        var again = await InviteAsync(owner, teamId, email, TeamRole.Editor);

        Assert.True(again.Succeeded);
        Assert.Equal($"Invitation sent to {email}. They join when they accept it. An email went to that address a few minutes ago, so no new one is sent.", again.Message);
        Assert.Equal(TeamRole.Editor, await RoleOfferedAsync(owner, teamId, email));
        await mail.DrainAsync("again-marker@example.test");
        Assert.Single(mail.To(email));
    }

    [Fact]
    public async Task An_account_whose_address_nobody_proved_neither_sees_nor_accepts_an_invitation_to_it()
    {
        var (owner, teamId) = await TeamAsync("squat", "Squatted");
        // Registered with someone else's address before (or after) the invitation: nothing proves it is theirs.
        var squatter = await App.CreateUserAsync("squat-invitee@example.test");
        Assert.True((await InviteAsync(owner, teamId, "squat-invitee@example.test", TeamRole.Owner)).Succeeded);
        var invitationId = await PendingInvitationIdAsync(owner, teamId, "squat-invitee@example.test");

        using var scope = App.Services.CreateScope();
        var service = scope.ServiceProvider.GetRequiredService<TeamService>();
        Assert.Empty(await service.MyInvitationsAsync(StudioAppFactory.PrincipalOf(squatter)));
        Assert.True(await service.MustConfirmEmailForInvitationsAsync(StudioAppFactory.PrincipalOf(squatter)));
        Assert.True((await service.AcceptInvitationAsync(StudioAppFactory.PrincipalOf(squatter), invitationId)).NotFound);
        Assert.Null(await service.RoleOfAsync(StudioAppFactory.PrincipalOf(squatter), teamId));
        using var client = App.CreateBrowserlikeClient();
        await TestAccounts.SignInAsync(client, squatter.Email!, TestAccounts.Password);
        var page = await (await client.GetAsync(new Uri($"/teams?invitation={invitationId}", UriKind.Relative))).Content.ReadAsStringAsync();
        Assert.Contains("Confirm your email address to accept invitations", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Squatted", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_owner_whose_own_address_is_unconfirmed_saves_the_invitation_but_sends_no_email()
    {
        var owner = await App.CreateUserAsync("unproved-owner@example.test", displayName: "Olga");
        Guid teamId;
        using (var scope = App.Services.CreateScope())
        {
            teamId = (await scope.ServiceProvider.GetRequiredService<TeamService>().CreateAsync(StudioAppFactory.PrincipalOf(owner), "Unproved")).Id!.Value;
        }

        var invited = await InviteAsync(owner, teamId, "unproved-invitee@example.test", TeamRole.Viewer);

        Assert.True(invited.Succeeded);
        Assert.Equal("Invitation sent to unproved-invitee@example.test. They join when they accept it. No email was sent, because your own email address is not confirmed yet: confirm it from your account page. They still see the invitation on their Teams page.", invited.Message);
        await PendingInvitationIdAsync(owner, teamId, "unproved-invitee@example.test");
        await mail.DrainAsync("unproved-marker@example.test");
        Assert.Empty(mail.To("unproved-invitee@example.test"));
    }

    private async Task<TeamRole> RoleOfferedAsync(AppUser owner, Guid teamId, string email)
    {
        using var scope = App.Services.CreateScope();
        var team = await scope.ServiceProvider.GetRequiredService<TeamService>().GetAsync(StudioAppFactory.PrincipalOf(owner), teamId);
        return team!.Invitations.Single(i => i.Email == email).Role;
    }
}
