using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Access;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Teams;

/// <summary>A team in the list of the person's teams.</summary>
/// <param name="Id">The team.</param>
/// <param name="Name">Its name.</param>
/// <param name="MyRole">The person's role in it.</param>
/// <param name="MemberCount">How many members it has.</param>
public sealed record TeamSummary(Guid Id, string Name, TeamRole MyRole, int MemberCount);

/// <summary>A member as the team page shows them.</summary>
/// <param name="UserId">The member.</param>
/// <param name="DisplayName">Their name.</param>
/// <param name="Email">Their email.</param>
/// <param name="Role">Their role.</param>
/// <param name="JoinedAt">When they joined.</param>
public sealed record TeamMemberView(string UserId, string DisplayName, string Email, TeamRole Role, DateTimeOffset JoinedAt);

/// <summary>A team with its members, for one of its members.</summary>
/// <param name="Id">The team.</param>
/// <param name="Name">Its name.</param>
/// <param name="MyRole">The reader's role.</param>
/// <param name="Members">Owners first, then by name.</param>
public sealed record TeamDetails(Guid Id, string Name, TeamRole MyRole, IReadOnlyList<TeamMemberView> Members)
{
    /// <summary>How many owners it has (the last one cannot leave or be demoted).</summary>
    public int OwnerCount => Members.Count(m => m.Role == TeamRole.Owner);
}

/// <summary>The outcome of a change to a team or gallery: done (with its id), refused with reasons, or not found.</summary>
/// <param name="Id">The team or gallery, when it was done.</param>
/// <param name="Errors">Why it was refused.</param>
/// <param name="NotFound">No such team or gallery for this person (someone else's reads as missing).</param>
public sealed record ChangeResult(Guid? Id, IReadOnlyList<string> Errors, bool NotFound = false)
{
    /// <summary>True when the change was made.</summary>
    public bool Succeeded => Id is not null && Errors.Count == 0 && !NotFound;

    /// <summary>No such team, gallery or comment for this person.</summary>
    internal static ChangeResult Missing { get; } = new(null, [], NotFound: true);

    internal static ChangeResult Refused(string error) => new(null, [error]);
}

/// <summary>
/// Teams and their members. Every call reads the caller's membership from the database, so a removed member
/// loses access at their very next action; a team someone is not in reads as missing. Member changes take the
/// write lock first (SQLite's immediate transaction), so "the last owner" is decided on current rows.
/// </summary>
public sealed class TeamService(IDbContextFactory<AppDbContext> dbFactory, GenerationEvents events, TimeProvider time)
{
    /// <summary>Longest team name.</summary>
    public const int MaxNameLength = 80;

    /// <summary>The person's teams, by name.</summary>
    public async Task<IReadOnlyList<TeamSummary>> MyTeamsAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return [];
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.TeamMembers.AsNoTracking().Where(m => m.UserId == userId)
            .OrderBy(m => m.Team!.Name)
            .Select(m => new TeamSummary(m.TeamId, m.Team!.Name, m.Role, m.Team.Members.Count))
            .ToListAsync(cancellationToken);
    }

    /// <summary>Creates a team with the caller as its owner.</summary>
    public async Task<ChangeResult> CreateAsync(ClaimsPrincipal user, string? name, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return ChangeResult.Refused("Sign in to create a team.");
        }
        if (ValidateName(name) is { } error)
        {
            return ChangeResult.Refused(error);
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        var team = new Team { Id = Guid.NewGuid(), Name = name!.Trim(), CreatedAt = now };
        team.Members.Add(new TeamMember { UserId = userId, Role = TeamRole.Owner, JoinedAt = now });
        db.Teams.Add(team);
        await db.SaveChangesAsync(cancellationToken);
        return new ChangeResult(team.Id, []);
    }

    /// <summary>The team with its members, or null when the caller is not a member.</summary>
    public async Task<TeamDetails?> GetAsync(ClaimsPrincipal user, Guid teamId, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return null;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var team = await db.Teams.AsNoTracking().Where(t => t.Id == teamId && t.Members.Any(m => m.UserId == userId))
            .Select(t => new { t.Id, t.Name })
            .SingleOrDefaultAsync(cancellationToken);
        if (team is null)
        {
            return null;
        }
        var members = await db.TeamMembers.AsNoTracking().Where(m => m.TeamId == teamId)
            .Select(m => new TeamMemberView(m.UserId, m.User!.DisplayName, m.User.Email ?? "", m.Role, m.JoinedAt))
            .ToListAsync(cancellationToken);
        var ordered = members.OrderByDescending(m => m.Role).ThenBy(m => m.DisplayName, StringComparer.CurrentCultureIgnoreCase).ToList();
        return new TeamDetails(team.Id, team.Name, ordered.Single(m => m.UserId == userId).Role, ordered);
    }

    /// <summary>The caller's role in the team, or null when they are not a member.</summary>
    public async Task<TeamRole?> RoleOfAsync(ClaimsPrincipal user, Guid teamId, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return null;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.TeamMembers.Where(m => m.TeamId == teamId && m.UserId == userId).Select(m => (TeamRole?)m.Role).SingleOrDefaultAsync(cancellationToken);
    }

    /// <summary>Adds the account with <paramref name="email"/> to the team (owners only).</summary>
    public Task<ChangeResult> AddMemberAsync(ClaimsPrincipal user, Guid teamId, string? email, TeamRole role, CancellationToken cancellationToken = default) =>
        ChangeAsync(user, teamId, ownerOnly: true, async (db, team, members, notify) =>
        {
            var normalized = email?.Trim() ?? "";
            if (normalized.Length == 0)
            {
                return "Enter the email of the person to add.";
            }
            var normalizedEmail = normalized.ToUpperInvariant(); // Identity's normalisation, indexed
            var account = await db.Users.Where(u => u.NormalizedEmail == normalizedEmail).Select(u => new { u.Id, u.DisplayName }).SingleOrDefaultAsync(cancellationToken);
            if (account is null)
            {
                return $"No account uses {normalized}. They need to register first.";
            }
            if (members.Any(m => m.UserId == account.Id))
            {
                return $"{account.DisplayName} is already a member.";
            }
            db.TeamMembers.Add(new TeamMember { TeamId = team.Id, UserId = account.Id, Role = role, JoinedAt = time.GetUtcNow() });
            notify.Add(account.Id);
            return null;
        }, cancellationToken);

    /// <summary>Gives a member another role (owners only); the last owner keeps theirs.</summary>
    public Task<ChangeResult> ChangeRoleAsync(ClaimsPrincipal user, Guid teamId, string memberId, TeamRole role, CancellationToken cancellationToken = default) =>
        ChangeAsync(user, teamId, ownerOnly: true, (_, _, members, _) =>
        {
            var member = members.SingleOrDefault(m => m.UserId == memberId);
            if (member is null)
            {
                return Task.FromResult<string?>("That person is not a member.");
            }
            if (member.Role == TeamRole.Owner && role != TeamRole.Owner && members.Count(m => m.Role == TeamRole.Owner) == 1)
            {
                return Task.FromResult<string?>("The last owner cannot be demoted. Make someone else an owner first.");
            }
            member.Role = role;
            return Task.FromResult<string?>(null);
        }, cancellationToken);

    /// <summary>Removes a member (owners only; anyone may remove themselves); the last owner stays.</summary>
    public Task<ChangeResult> RemoveMemberAsync(ClaimsPrincipal user, Guid teamId, string memberId, CancellationToken cancellationToken = default)
    {
        var self = ResourceAccess.UserId(user) == memberId;
        return ChangeAsync(user, teamId, ownerOnly: !self, (db, _, members, notify) =>
        {
            var member = members.SingleOrDefault(m => m.UserId == memberId);
            if (member is null)
            {
                return Task.FromResult<string?>("That person is not a member.");
            }
            if (member.Role == TeamRole.Owner && members.Count(m => m.Role == TeamRole.Owner) == 1)
            {
                return Task.FromResult<string?>(self
                    ? "You are the last owner: make someone else an owner before you leave."
                    : "The last owner cannot be removed.");
            }
            db.TeamMembers.Remove(member);
            notify.Add(memberId);
            return Task.FromResult<string?>(null);
        }, cancellationToken);
    }

    /// <summary>Leaves the team.</summary>
    public Task<ChangeResult> LeaveAsync(ClaimsPrincipal user, Guid teamId, CancellationToken cancellationToken = default) =>
        RemoveMemberAsync(user, teamId, ResourceAccess.UserId(user) ?? "", cancellationToken);

    /// <summary>Why <paramref name="name"/> cannot name a team, or null.</summary>
    public static string? ValidateName(string? name) =>
        string.IsNullOrWhiteSpace(name) ? "Give the team a name."
        : name.Trim().Length > MaxNameLength ? $"A team name has at most {MaxNameLength} characters."
        : null;

    /// <summary>
    /// Runs <paramref name="change"/> on the team's current members inside an immediate transaction, saves, and
    /// tells every member before and after (and anyone removed) that the team changed.
    /// </summary>
    private async Task<ChangeResult> ChangeAsync(ClaimsPrincipal user, Guid teamId, bool ownerOnly,
        Func<AppDbContext, Team, List<TeamMember>, List<string>, Task<string?>> change, CancellationToken cancellationToken)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return ChangeResult.Missing;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var team = await db.Teams.SingleOrDefaultAsync(t => t.Id == teamId, cancellationToken);
        var members = await db.TeamMembers.Where(m => m.TeamId == teamId).ToListAsync(cancellationToken);
        var me = members.SingleOrDefault(m => m.UserId == userId);
        if (team is null || me is null)
        {
            return ChangeResult.Missing;
        }
        if (ownerOnly && me.Role != TeamRole.Owner)
        {
            return ChangeResult.Refused("Only the team's owners can manage its members.");
        }
        var notify = members.Select(m => m.UserId).ToList();
        if (await change(db, team, members, notify) is { } error)
        {
            return ChangeResult.Refused(error);
        }
        team.ConcurrencyStamp = Guid.NewGuid();
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        var remaining = await db.TeamMembers.Where(m => m.TeamId == teamId).Select(m => m.UserId).ToListAsync(cancellationToken);
        foreach (var recipient in notify.Distinct(StringComparer.Ordinal))
        {
            events.Publish(new TeamChanged(teamId, recipient, Removed: !remaining.Contains(recipient)));
        }
        return new ChangeResult(teamId, []);
    }
}
