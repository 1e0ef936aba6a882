using Microsoft.Extensions.DependencyInjection;
using System.Security.Claims;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Teams;

namespace T2IStudio.Web.Tests.Infrastructure;

/// <summary>How someone joins a team now: an owner invites their email and they accept.</summary>
public static class TeamMembership
{
    /// <summary>
    /// Marks <paramref name="user"/>'s address confirmed, as its confirmation link would: with email on, only a
    /// confirmed address sees and accepts invitations (and only a confirmed owner's invitations are emailed).
    /// </summary>
    public static async Task ConfirmEmailAsync(this StudioAppFactory app, AppUser user)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(user);
        using var scope = app.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<AppUser>>();
        var stored = (await users.FindByIdAsync(user.Id))!;
        Assert.True((await users.ConfirmEmailAsync(stored, await users.GenerateEmailConfirmationTokenAsync(stored))).Succeeded);
    }

    /// <summary>Invites <paramref name="member"/> as <paramref name="owner"/> and accepts as <paramref name="member"/>.</summary>
    public static async Task<ChangeResult> JoinByInvitationAsync(this TeamService teams, ClaimsPrincipal owner, Guid teamId, AppUser member, TeamRole role)
    {
        ArgumentNullException.ThrowIfNull(teams);
        ArgumentNullException.ThrowIfNull(member);
        var invited = await teams.InviteAsync(owner, teamId, member.Email, role);
        Assert.True(invited.Succeeded, string.Join(" ", invited.Errors));
        var invitee = StudioAppFactory.PrincipalOf(member);
        var invitation = Assert.Single(await teams.MyInvitationsAsync(invitee), i => i.TeamId == teamId);
        return await teams.AcceptInvitationAsync(invitee, invitation.Id);
    }
}
