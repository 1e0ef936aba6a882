using System.Net;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>Teams and their members: roles, the last owner, and access that ends the moment membership does.</summary>
public class TeamTests : IClassFixture<StudioAppFixture>
{
    private readonly StudioAppFactory _app;

    public TeamTests(StudioAppFixture fixture) => _app = fixture.Factory;

    private static TeamService Teams(IServiceScope scope) => scope.ServiceProvider.GetRequiredService<TeamService>();

    private async Task<(AppUser Owner, AppUser Other, Guid TeamId)> TeamOfTwoAsync(string prefix, TeamRole otherRole)
    {
        var owner = await _app.CreateUserAsync($"{prefix}-owner@example.test");
        var other = await _app.CreateUserAsync($"{prefix}-other@example.test");
        using var scope = _app.Services.CreateScope();
        var created = await Teams(scope).CreateAsync(StudioAppFactory.PrincipalOf(owner), "  Poster crew  ");
        Assert.True(created.Succeeded, string.Join(" ", created.Errors));
        // Invited in another case than registered: emails match as Identity normalises them.
        var invited = await Teams(scope).InviteAsync(StudioAppFactory.PrincipalOf(owner), created.Id!.Value, other.Email!.ToUpperInvariant(), otherRole);
        Assert.True(invited.Succeeded, string.Join(" ", invited.Errors));
        var invitation = Assert.Single(await Teams(scope).MyInvitationsAsync(StudioAppFactory.PrincipalOf(other)));
        var accepted = await Teams(scope).AcceptInvitationAsync(StudioAppFactory.PrincipalOf(other), invitation.Id);
        Assert.True(accepted.Succeeded, string.Join(" ", accepted.Errors));
        return (owner, other, created.Id.Value);
    }

    [Fact]
    public async Task The_creator_owns_the_team_and_a_member_who_accepted_an_invitation_sees_it_with_their_role()
    {
        var (owner, other, teamId) = await TeamOfTwoAsync("create", TeamRole.Viewer);
        using var scope = _app.Services.CreateScope();

        var mine = Assert.Single(await Teams(scope).MyTeamsAsync(StudioAppFactory.PrincipalOf(owner)));
        Assert.Equal(("Poster crew", TeamRole.Owner, 2), (mine.Name, mine.MyRole, mine.MemberCount));
        var theirs = await Teams(scope).GetAsync(StudioAppFactory.PrincipalOf(other), teamId);
        Assert.Equal(TeamRole.Viewer, theirs!.MyRole);
        Assert.Equal([TeamRole.Owner, TeamRole.Viewer], theirs.Members.Select(m => m.Role));
    }

    [Fact]
    public async Task Inviting_refuses_members_bad_emails_and_non_owners_with_a_message()
    {
        var (owner, other, teamId) = await TeamOfTwoAsync("add", TeamRole.Editor);
        using var scope = _app.Services.CreateScope();
        var teams = Teams(scope);

        Assert.Equal([$"{other.DisplayName} is already a member."], (await teams.InviteAsync(StudioAppFactory.PrincipalOf(owner), teamId, other.Email, TeamRole.Viewer)).Errors);
        Assert.Equal(["Enter the email of the person to invite."], (await teams.InviteAsync(StudioAppFactory.PrincipalOf(owner), teamId, "  ", TeamRole.Viewer)).Errors);
        Assert.Equal(["That is not an email address."], (await teams.InviteAsync(StudioAppFactory.PrincipalOf(owner), teamId, "not-an-email", TeamRole.Viewer)).Errors);
        var third = await _app.CreateUserAsync("add-third@example.test");
        Assert.Equal(["Only the team's owners can manage its members."], (await teams.InviteAsync(StudioAppFactory.PrincipalOf(other), teamId, third.Email, TeamRole.Owner)).Errors);
        Assert.Empty(await teams.MyInvitationsAsync(StudioAppFactory.PrincipalOf(third)));
        Assert.Equal(["Give the team a name."], (await teams.CreateAsync(StudioAppFactory.PrincipalOf(owner), "   ")).Errors);
        Assert.Equal(["A team name has at most 80 characters."], (await teams.CreateAsync(StudioAppFactory.PrincipalOf(owner), new string('x', 81))).Errors);
    }

    [Fact]
    public async Task The_last_owner_cannot_leave_be_demoted_or_be_removed_until_there_is_another_owner()
    {
        var (owner, other, teamId) = await TeamOfTwoAsync("last", TeamRole.Editor);
        using var scope = _app.Services.CreateScope();
        var teams = Teams(scope);
        var ownerPrincipal = StudioAppFactory.PrincipalOf(owner);

        Assert.Equal(["You are the last owner: make someone else an owner before you leave."], (await teams.LeaveAsync(ownerPrincipal, teamId)).Errors);
        Assert.Equal(["The last owner cannot be demoted. Make someone else an owner first."], (await teams.ChangeRoleAsync(ownerPrincipal, teamId, owner.Id, TeamRole.Editor)).Errors);

        Assert.True((await teams.ChangeRoleAsync(ownerPrincipal, teamId, other.Id, TeamRole.Owner)).Succeeded);
        Assert.True((await teams.LeaveAsync(ownerPrincipal, teamId)).Succeeded);
        Assert.Null(await teams.GetAsync(ownerPrincipal, teamId));
        var left = await teams.GetAsync(StudioAppFactory.PrincipalOf(other), teamId);
        Assert.Equal([other.Id], left!.Members.Select(m => m.UserId));
        Assert.Equal(["You are the last owner: make someone else an owner before you leave."], (await teams.RemoveMemberAsync(StudioAppFactory.PrincipalOf(other), teamId, other.Id)).Errors);
    }

    [Fact]
    public async Task A_removed_member_loses_access_at_once_and_is_told_while_the_others_hear_of_the_change()
    {
        var (owner, other, teamId) = await TeamOfTwoAsync("remove", TeamRole.Viewer);
        var events = _app.Services.GetRequiredService<StudioNotifier>();
        var toldOther = new List<StudioEvent>();
        var toldOwner = new List<StudioEvent>();
        using var a = events.Subscribe(other.Id, e => { toldOther.Add(e); return Task.CompletedTask; });
        using var b = events.Subscribe(owner.Id, e => { toldOwner.Add(e); return Task.CompletedTask; });
        using var scope = _app.Services.CreateScope();
        var teams = Teams(scope);

        Assert.True((await teams.RemoveMemberAsync(StudioAppFactory.PrincipalOf(owner), teamId, other.Id)).Succeeded);

        Assert.Null(await teams.GetAsync(StudioAppFactory.PrincipalOf(other), teamId));
        Assert.Null(await teams.RoleOfAsync(StudioAppFactory.PrincipalOf(other), teamId));
        Assert.True((await teams.InviteAsync(StudioAppFactory.PrincipalOf(other), teamId, "x@example.test", TeamRole.Viewer)).NotFound);
        // The one removed hears only that; the members left also see the departure in the team's activity.
        Assert.Equal([new TeamChanged(teamId, other.Id, Removed: true)], toldOther);
        Assert.Equal([new TeamChanged(teamId, owner.Id, Removed: false), new TeamActivityAdded(teamId, owner.Id)], toldOwner);
    }

    [Fact]
    public async Task A_team_page_answers_404_to_someone_outside_the_team_and_200_to_a_member()
    {
        var (owner, _, teamId) = await TeamOfTwoAsync("page", TeamRole.Viewer);
        var outsider = await _app.CreateUserAsync("page-outsider@example.test");

        using var outside = _app.CreateBrowserlikeClient();
        await TestAccounts.SignInAsync(outside, outsider.Email!, TestAccounts.Password);
        Assert.Equal(HttpStatusCode.NotFound, (await outside.GetAsync(new Uri($"/teams/{teamId}", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await outside.GetAsync(new Uri($"/teams/{Guid.NewGuid()}", UriKind.Relative))).StatusCode);

        using var inside = _app.CreateBrowserlikeClient();
        await TestAccounts.SignInAsync(inside, owner.Email!, TestAccounts.Password);
        var page = await inside.GetAsync(new Uri($"/teams/{teamId}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Poster crew", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
