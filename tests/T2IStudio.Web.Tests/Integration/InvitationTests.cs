using System.Net;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Access;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>
/// Membership by invitation: an invitation grants nothing until the invitee accepts it, the owner's answer does
/// not tell whether the email has an account, and the invitee sees it live on their Teams page.
/// </summary>
public sealed class InvitationTests : IClassFixture<StudioAppFixture>
{
    private readonly StudioAppFactory _app;

    public InvitationTests(StudioAppFixture fixture) => _app = fixture.Factory;

    private static TeamService Teams(IServiceScope scope) => scope.ServiceProvider.GetRequiredService<TeamService>();

    private async Task<(AppUser Owner, Guid TeamId, Guid GalleryId)> TeamWithGalleryAsync(string prefix)
    {
        var owner = await _app.CreateUserAsync($"{prefix}-owner@example.test");
        using var scope = _app.Services.CreateScope();
        var teamId = (await Teams(scope).CreateAsync(StudioAppFactory.PrincipalOf(owner), $"{prefix} team")).Id!.Value;
        var galleryId = (await scope.ServiceProvider.GetRequiredService<GalleryService>().CreateAsync(StudioAppFactory.PrincipalOf(owner), "Board", teamId)).Id!.Value;
        return (owner, teamId, galleryId);
    }

    [Fact]
    public async Task A_pending_invitee_sees_nothing_of_the_team_until_they_accept()
    {
        var (owner, teamId, galleryId) = await TeamWithGalleryAsync("pending");
        var invitee = await _app.CreateUserAsync("pending-invitee@example.test");
        var me = StudioAppFactory.PrincipalOf(invitee);
        using var scope = _app.Services.CreateScope();
        var teams = Teams(scope);
        var galleries = scope.ServiceProvider.GetRequiredService<GalleryService>();
        Assert.True((await teams.InviteAsync(StudioAppFactory.PrincipalOf(owner), teamId, invitee.Email, TeamRole.Editor)).Succeeded);

        // Pending: the invitation is listed, and nothing else of the team is visible.
        var invitation = Assert.Single(await teams.MyInvitationsAsync(me));
        Assert.Equal(("pending team", TeamRole.Editor, "pending-owner"), (invitation.TeamName, invitation.Role, invitation.InvitedBy));
        Assert.Empty(await teams.MyTeamsAsync(me));
        Assert.Null(await teams.GetAsync(me, teamId));
        Assert.Null(await teams.RoleOfAsync(me, teamId));
        Assert.DoesNotContain(await galleries.ListAsync(me), g => g.Id == galleryId);
        Assert.Null(await scope.ServiceProvider.GetRequiredService<GalleryAccess>().RoleAsync(invitee.Id, galleryId));
        Assert.DoesNotContain(invitee.Id, await scope.ServiceProvider.GetRequiredService<EventAudience>().OfGalleryAsync(galleryId)); // presence and live events
        using (var client = _app.CreateBrowserlikeClient())
        {
            await TestAccounts.SignInAsync(client, invitee.Email!, TestAccounts.Password);
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(new Uri($"/teams/{teamId}", UriKind.Relative))).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(new Uri($"/gallery?g={galleryId}", UriKind.Relative))).StatusCode);
            var list = await (await client.GetAsync(new Uri("/teams", UriKind.Relative))).Content.ReadAsStringAsync();
            Assert.Contains("pending team", list, StringComparison.Ordinal);
            Assert.Contains(">Accept</", list, StringComparison.Ordinal);

            // Accepted: a member with the role offered; the invitation is gone.
            var accepted = await teams.AcceptInvitationAsync(me, invitation.Id);
            Assert.True(accepted.Succeeded, string.Join(" ", accepted.Errors));
            Assert.Equal("You joined pending team as an editor.", accepted.Message);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri($"/teams/{teamId}", UriKind.Relative))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri($"/gallery?g={galleryId}", UriKind.Relative))).StatusCode);
        }
        Assert.Equal(TeamRole.Editor, await teams.RoleOfAsync(me, teamId));
        Assert.Contains(invitee.Id, await scope.ServiceProvider.GetRequiredService<EventAudience>().OfGalleryAsync(galleryId));
        Assert.Empty(await teams.MyInvitationsAsync(me));
        Assert.Empty((await teams.GetAsync(StudioAppFactory.PrincipalOf(owner), teamId))!.Invitations);
        Assert.True((await teams.AcceptInvitationAsync(me, invitation.Id)).NotFound);
    }

    [Fact]
    public async Task Declining_removes_the_invitation_grants_nothing_and_the_owners_see_it_go()
    {
        var (owner, teamId, _) = await TeamWithGalleryAsync("decline");
        var invitee = await _app.CreateUserAsync("decline-invitee@example.test");
        var me = StudioAppFactory.PrincipalOf(invitee);
        var events = _app.Services.GetRequiredService<StudioNotifier>();
        var toldOwner = new List<StudioEvent>();
        using var subscription = events.Subscribe(owner.Id, e => { lock (toldOwner) { toldOwner.Add(e); } return Task.CompletedTask; });
        using var scope = _app.Services.CreateScope();
        var teams = Teams(scope);
        await teams.InviteAsync(StudioAppFactory.PrincipalOf(owner), teamId, invitee.Email, TeamRole.Viewer);
        Assert.Equal([invitee.Email], (await teams.GetAsync(StudioAppFactory.PrincipalOf(owner), teamId))!.Invitations.Select(i => i.Email));

        var invitation = Assert.Single(await teams.MyInvitationsAsync(me));
        var declined = await teams.DeclineInvitationAsync(me, invitation.Id);
        Assert.True(declined.Succeeded);
        Assert.Equal("You declined the invitation to decline team.", declined.Message);
        Assert.Empty(await teams.MyInvitationsAsync(me));
        Assert.Null(await teams.RoleOfAsync(me, teamId));
        Assert.Empty((await teams.GetAsync(StudioAppFactory.PrincipalOf(owner), teamId))!.Invitations);
        Assert.Contains(new TeamChanged(teamId, owner.Id, Removed: false), toldOwner);
    }

    [Fact]
    public async Task The_answer_to_an_invitation_is_the_same_with_or_without_an_account_and_a_later_account_sees_it()
    {
        var (owner, teamId, _) = await TeamWithGalleryAsync("same");
        await _app.CreateUserAsync("same-existing@example.test");
        using var scope = _app.Services.CreateScope();
        var teams = Teams(scope);
        var ownerP = StudioAppFactory.PrincipalOf(owner);

        var existing = await teams.InviteAsync(ownerP, teamId, "same-existing@example.test", TeamRole.Viewer);
        var unknown = await teams.InviteAsync(ownerP, teamId, "same-nobody@example.test", TeamRole.Viewer);
        Assert.Equal((true, "Invitation sent to same-existing@example.test. They join when they accept it."), (existing.Succeeded, existing.Message));
        Assert.Equal((true, "Invitation sent to same-nobody@example.test. They join when they accept it."), (unknown.Succeeded, unknown.Message));
        Assert.Equal(existing.Errors, unknown.Errors);

        // Inviting again changes the role offered instead of adding a second invitation.
        Assert.True((await teams.InviteAsync(ownerP, teamId, "Same-Nobody@example.test", TeamRole.Editor)).Succeeded);
        Assert.Equal(2, (await teams.GetAsync(ownerP, teamId))!.Invitations.Count);

        // The person registers later with that email: the invitation is there for them.
        var later = await _app.CreateUserAsync("same-nobody@example.test");
        var invitation = Assert.Single(await teams.MyInvitationsAsync(StudioAppFactory.PrincipalOf(later)));
        Assert.Equal(("same team", TeamRole.Editor), (invitation.TeamName, invitation.Role));
    }

    [Fact]
    public async Task The_invitee_hears_of_an_invitation_and_its_revocation_live_and_only_owners_revoke()
    {
        var (owner, teamId, _) = await TeamWithGalleryAsync("live");
        var invitee = await _app.CreateUserAsync("live-invitee@example.test");
        var viewer = await _app.CreateUserAsync("live-viewer@example.test");
        var events = _app.Services.GetRequiredService<StudioNotifier>();
        var told = new List<StudioEvent>();
        using var subscription = events.Subscribe(invitee.Id, e => { lock (told) { told.Add(e); } return Task.CompletedTask; });
        using var scope = _app.Services.CreateScope();
        var teams = Teams(scope);
        var ownerP = StudioAppFactory.PrincipalOf(owner);
        Assert.True((await teams.JoinByInvitationAsync(ownerP, teamId, viewer, TeamRole.Viewer)).Succeeded);

        await teams.InviteAsync(ownerP, teamId, invitee.Email, TeamRole.Viewer);
        Assert.Equal([new TeamInvitationsChanged(invitee.Id)], told);
        var pending = Assert.Single((await teams.GetAsync(ownerP, teamId))!.Invitations);
        Assert.Empty((await teams.GetAsync(StudioAppFactory.PrincipalOf(viewer), teamId))!.Invitations); // only owners see them
        Assert.Equal(["Only the team's owners can manage its members."], (await teams.RevokeInvitationAsync(StudioAppFactory.PrincipalOf(viewer), teamId, pending.Id)).Errors);
        // Someone else cannot answer an invitation addressed to another email.
        Assert.True((await teams.AcceptInvitationAsync(StudioAppFactory.PrincipalOf(viewer), pending.Id)).NotFound);

        var revoked = await teams.RevokeInvitationAsync(ownerP, teamId, pending.Id);
        Assert.True(revoked.Succeeded);
        Assert.Equal([new TeamInvitationsChanged(invitee.Id), new TeamInvitationsChanged(invitee.Id)], told);
        Assert.Empty(await teams.MyInvitationsAsync(StudioAppFactory.PrincipalOf(invitee)));
        Assert.True((await teams.AcceptInvitationAsync(StudioAppFactory.PrincipalOf(invitee), pending.Id)).NotFound);
        Assert.Equal(["That invitation was already answered or revoked."], (await teams.RevokeInvitationAsync(ownerP, teamId, pending.Id)).Errors);
    }
}

/// <summary>Pending invitations are capped, so nobody can be showered with invitations from one account or team.</summary>
public sealed class InvitationLimitTests : IDisposable
{
    private readonly StudioAppFactory _app = new(settings: new Dictionary<string, string?>
    {
        ["Teams:MaxPendingInvitationsPerTeam"] = "2",
        ["Teams:MaxPendingInvitationsPerInviter"] = "3",
    });

    [Fact]
    public async Task Pending_invitations_are_limited_per_team_and_per_inviter_and_answered_ones_free_their_place()
    {
        var owner = await _app.CreateUserAsync("limits-owner@example.test");
        var ownerP = StudioAppFactory.PrincipalOf(owner);
        using var scope = _app.Services.CreateScope();
        var teams = scope.ServiceProvider.GetRequiredService<TeamService>();
        var first = (await teams.CreateAsync(ownerP, "First")).Id!.Value;
        var second = (await teams.CreateAsync(ownerP, "Second")).Id!.Value;

        Assert.True((await teams.InviteAsync(ownerP, first, "a@example.test", TeamRole.Viewer)).Succeeded);
        Assert.True((await teams.InviteAsync(ownerP, first, "b@example.test", TeamRole.Viewer)).Succeeded);
        Assert.Equal(["This team already has 2 invitations waiting. Revoke some, or wait until they are answered."],
            (await teams.InviteAsync(ownerP, first, "c@example.test", TeamRole.Viewer)).Errors);
        Assert.True((await teams.InviteAsync(ownerP, first, "a@example.test", TeamRole.Editor)).Succeeded); // re-inviting is not a new one

        Assert.True((await teams.InviteAsync(ownerP, second, "c@example.test", TeamRole.Viewer)).Succeeded);
        Assert.Equal(["You already have 3 invitations waiting across your teams. Revoke some, or wait until they are answered."],
            (await teams.InviteAsync(ownerP, second, "d@example.test", TeamRole.Viewer)).Errors);

        // An answered invitation frees its place.
        var c = await _app.CreateUserAsync("c@example.test");
        var invitation = Assert.Single(await teams.MyInvitationsAsync(StudioAppFactory.PrincipalOf(c)));
        Assert.True((await teams.DeclineInvitationAsync(StudioAppFactory.PrincipalOf(c), invitation.Id)).Succeeded);
        Assert.True((await teams.InviteAsync(ownerP, second, "d@example.test", TeamRole.Viewer)).Succeeded);
    }

    public void Dispose() => _app.Dispose();
}
