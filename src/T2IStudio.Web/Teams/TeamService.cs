using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Access;
using T2IStudio.Web.Email;
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
/// <param name="Invitations">The invitations it waits on, newest first; empty unless the reader is an owner.</param>
public sealed record TeamDetails(Guid Id, string Name, TeamRole MyRole, IReadOnlyList<TeamMemberView> Members, IReadOnlyList<PendingInvitation> Invitations)
{
    /// <summary>How many owners it has (the last one cannot leave or be demoted).</summary>
    public int OwnerCount => Members.Count(m => m.Role == TeamRole.Owner);
}

/// <summary>The outcome of a change to a team or gallery: done (with its id), refused with reasons, or not found.</summary>
/// <param name="Id">The team or gallery, when it was done.</param>
/// <param name="Errors">Why it was refused.</param>
/// <param name="NotFound">No such team or gallery for this person (someone else's reads as missing).</param>
/// <param name="Message">What was done, in words for the person, when there is more to say than "done".</param>
public sealed record ChangeResult(Guid? Id, IReadOnlyList<string> Errors, bool NotFound = false, string? Message = null)
{
    /// <summary>True when the change was made.</summary>
    public bool Succeeded => Id is not null && Errors.Count == 0 && !NotFound;

    /// <summary>What to tell the person when it was not made: the first error, or <paramref name="whenMissing"/> for a missing thing.</summary>
    public string FirstErrorOr(string whenMissing) => Errors.Count > 0 ? Errors[0] : whenMissing;

    /// <summary>No such team, gallery or comment for this person.</summary>
    internal static ChangeResult Missing { get; } = new(null, [], NotFound: true);

    internal static ChangeResult Refused(string error) => new(null, [error]);
}

/// <summary>
/// Teams, their members and invitations. Every call reads the caller's membership from the database, so a removed
/// member loses access at their very next action; a team someone is not in reads as missing. Nobody becomes a
/// member without consent: an owner invites an email, and the account with that email accepts or declines; the
/// answer to the owner is the same whether or not such an account exists. Member changes take the write lock
/// first (SQLite's immediate transaction), so "the last owner" and the invitation limits are decided on current rows.
/// </summary>
public sealed class TeamService(IDbContextFactory<AppDbContext> dbFactory, StudioNotifier events, TeamActivityLog activity, TimeProvider time, IOptionsMonitor<TeamOptions> options,
    TeamInvitationMail invitationMail)
{
    /// <summary>Longest team name.</summary>
    public const int MaxNameLength = 80;

    /// <summary>Longest email an invitation is sent to (Identity's column).</summary>
    public const int MaxEmailLength = 256;

    private static readonly EmailAddressAttribute EmailRule = new();

    /// <summary>The person's teams, by name.</summary>
    public async Task<IReadOnlyList<TeamSummary>> MyTeamsAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return [];
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var teams = await db.TeamMembers.AsNoTracking().Where(m => m.UserId == userId)
            .Select(m => new TeamSummary(m.TeamId, m.Team!.Name, m.Role, m.Team.Members.Count))
            .ToListAsync(cancellationToken);
        // Sorted here, not by the database: SQLite and PostgreSQL collate names differently.
        return [.. teams.OrderBy(t => t.Name, StringComparer.CurrentCultureIgnoreCase)];
    }

    /// <summary>The invitations waiting for the person's email, newest first (none while email is on and the address unconfirmed).</summary>
    public async Task<IReadOnlyList<MyInvitation>> MyInvitationsAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return [];
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var email = await InvitableEmailOfAsync(db, userId, cancellationToken);
        if (email is null)
        {
            return [];
        }
        var invitations = await db.TeamInvitations.AsNoTracking().Where(i => i.NormalizedEmail == email)
            .Select(i => new MyInvitation(i.Id, i.TeamId, i.Team!.Name, i.Role, i.InvitedBy!.DisplayName, i.InvitedAt))
            .ToListAsync(cancellationToken);
        return invitations.OrderByDescending(i => i.InvitedAt).ToList();
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

    /// <summary>The team with its members (and, for owners, its pending invitations), or null when the caller is not a member.</summary>
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
        var myRole = ordered.Single(m => m.UserId == userId).Role;
        IReadOnlyList<PendingInvitation> invitations = [];
        if (myRole == TeamRole.Owner)
        {
            var pending = await db.TeamInvitations.AsNoTracking().Where(i => i.TeamId == teamId)
                .Select(i => new PendingInvitation(i.Id, i.Email, i.Role, i.InvitedBy!.DisplayName, i.InvitedAt))
                .ToListAsync(cancellationToken);
            invitations = pending.OrderByDescending(i => i.InvitedAt).ToList();
        }
        return new TeamDetails(team.Id, team.Name, myRole, ordered, invitations);
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

    /// <summary>
    /// Invites <paramref name="email"/> into the team with <paramref name="role"/> (owners only). Grants nothing
    /// until the account with that email accepts; the answer is the same whether or not such an account exists.
    /// Inviting the same email again changes the role offered. With email on, the invitation is also emailed once
    /// it is saved (<see cref="TeamInvitationMail"/>), and the answer says so.
    /// </summary>
    public async Task<ChangeResult> InviteAsync(ClaimsPrincipal user, Guid teamId, string? email, TeamRole role, CancellationToken cancellationToken = default)
    {
        InvitationToSend? toSend = null;
        var result = await ChangeAsync(user, teamId, ownerOnly: true, async change =>
        {
            var address = email?.Trim() ?? "";
            if (address.Length == 0)
            {
                return "Enter the email of the person to invite.";
            }
            if (address.Length > MaxEmailLength || !EmailRule.IsValid(address))
            {
                return "That is not an email address.";
            }
            var db = change.Db;
            var normalized = address.ToUpperInvariant(); // Identity's normalisation, indexed
            var account = await db.Users.Where(u => u.NormalizedEmail == normalized).Select(u => new { u.Id, u.DisplayName }).SingleOrDefaultAsync(cancellationToken);
            if (account is not null && change.Members.Any(m => m.UserId == account.Id))
            {
                // Only a member is named: the owner already sees them in the list.
                return $"{account.DisplayName} is already a member.";
            }
            var existing = await db.TeamInvitations.SingleOrDefaultAsync(i => i.TeamId == teamId && i.NormalizedEmail == normalized, cancellationToken);
            if (existing is null)
            {
                var limits = options.CurrentValue;
                if (await db.TeamInvitations.CountAsync(i => i.TeamId == teamId, cancellationToken) >= limits.MaxPendingInvitationsPerTeam)
                {
                    return $"This team already has {limits.MaxPendingInvitationsPerTeam} invitations waiting. Revoke some, or wait until they are answered.";
                }
                if (await db.TeamInvitations.CountAsync(i => i.InvitedById == change.UserId, cancellationToken) >= limits.MaxPendingInvitationsPerInviter)
                {
                    return $"You already have {limits.MaxPendingInvitationsPerInviter} invitations waiting across your teams. Revoke some, or wait until they are answered.";
                }
                existing = new TeamInvitation { Id = Guid.NewGuid(), TeamId = teamId, NormalizedEmail = normalized };
                db.TeamInvitations.Add(existing);
            }
            existing.Email = address;
            existing.Role = role;
            existing.InvitedById = change.UserId;
            existing.InvitedAt = time.GetUtcNow();
            if (account is not null)
            {
                change.Invitees.Add(account.Id);
            }
            change.Message = $"Invitation sent to {address}. They join when they accept it.";
            if (invitationMail.IsEnabled)
            {
                var teamName = await db.Teams.Where(t => t.Id == teamId).Select(t => t.Name).SingleAsync(cancellationToken);
                var inviter = await db.Users.Where(u => u.Id == change.UserId).Select(u => new { u.DisplayName, u.EmailConfirmed }).SingleAsync(cancellationToken);
                toSend = new InvitationToSend(existing.Id, address, role, teamName, change.UserId, inviter.DisplayName, HasAccount: account is not null, InviterConfirmed: inviter.EmailConfirmed);
            }
            return null;
        }, cancellationToken);
        // Emailed only once it is committed: a refused or rolled-back invitation never reaches an inbox.
        return result.Succeeded && toSend is not null && invitationMail.Send(toSend) is { } told
            ? result with { Message = $"{result.Message} {told}" }
            : result;
    }

    /// <summary>Withdraws a pending invitation (owners only).</summary>
    public Task<ChangeResult> RevokeInvitationAsync(ClaimsPrincipal user, Guid teamId, Guid invitationId, CancellationToken cancellationToken = default) =>
        ChangeAsync(user, teamId, ownerOnly: true, async change =>
        {
            var invitation = await change.Db.TeamInvitations.SingleOrDefaultAsync(i => i.Id == invitationId && i.TeamId == teamId, cancellationToken);
            if (invitation is null)
            {
                return "That invitation was already answered or revoked.";
            }
            change.Db.TeamInvitations.Remove(invitation);
            change.Invitees.AddRange(await change.Db.Users.Where(u => u.NormalizedEmail == invitation.NormalizedEmail).Select(u => u.Id).ToListAsync(cancellationToken));
            change.Message = $"The invitation to {invitation.Email} is revoked.";
            return null;
        }, cancellationToken);

    /// <summary>Accepts an invitation sent to the caller's email: they join the team with its role.</summary>
    public Task<ChangeResult> AcceptInvitationAsync(ClaimsPrincipal user, Guid invitationId, CancellationToken cancellationToken = default) =>
        AnswerAsync(user, invitationId, accept: true, cancellationToken);

    /// <summary>Declines an invitation sent to the caller's email; the team's owners see it go.</summary>
    public Task<ChangeResult> DeclineInvitationAsync(ClaimsPrincipal user, Guid invitationId, CancellationToken cancellationToken = default) =>
        AnswerAsync(user, invitationId, accept: false, cancellationToken);

    /// <summary>Gives a member another role (owners only); the last owner keeps theirs.</summary>
    public Task<ChangeResult> ChangeRoleAsync(ClaimsPrincipal user, Guid teamId, string memberId, TeamRole role, CancellationToken cancellationToken = default) =>
        ChangeAsync(user, teamId, ownerOnly: true, change =>
        {
            var members = change.Members;
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
        return ChangeAsync(user, teamId, ownerOnly: !self, change =>
        {
            var members = change.Members;
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
            change.Db.TeamMembers.Remove(member);
            change.Told.Add(memberId);
            change.Activity.Add(new ActivityRecord(teamId, change.UserId, TeamActivityKind.MemberLeft, SubjectUserId: memberId));
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
    /// The account's normalised email when invitations to it may be seen and answered: with email on, only once the
    /// address is confirmed (anyone can register any address, so an unproved one must not pick up what was sent to
    /// it); with email off there is no way to confirm, and the address counts as it always did.
    /// </summary>
    private async Task<string?> InvitableEmailOfAsync(AppDbContext db, string userId, CancellationToken cancellationToken)
    {
        var account = await db.Users.Where(u => u.Id == userId).Select(u => new { u.NormalizedEmail, u.EmailConfirmed }).SingleOrDefaultAsync(cancellationToken);
        return account is null || (invitationMail.IsEnabled && !account.EmailConfirmed) ? null : account.NormalizedEmail;
    }

    /// <summary>True when the person must confirm their email address before they see and answer invitations (email on, address unconfirmed).</summary>
    public async Task<bool> MustConfirmEmailForInvitationsAsync(ClaimsPrincipal user, CancellationToken cancellationToken = default)
    {
        if (!invitationMail.IsEnabled || ResourceAccess.UserId(user) is not { } userId)
        {
            return false;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Users.AnyAsync(u => u.Id == userId && !u.EmailConfirmed, cancellationToken);
    }

    /// <summary>
    /// Accepts or declines an invitation addressed to the caller's email, inside an immediate transaction; an
    /// invitation for someone else reads as missing.
    /// </summary>
    private async Task<ChangeResult> AnswerAsync(ClaimsPrincipal user, Guid invitationId, bool accept, CancellationToken cancellationToken)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return ChangeResult.Missing;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginWriteTransactionAsync(WriteScope.Teams, cancellationToken);
        var email = await InvitableEmailOfAsync(db, userId, cancellationToken);
        var invitation = email is null ? null
            : await db.TeamInvitations.Include(i => i.Team).SingleOrDefaultAsync(i => i.Id == invitationId && i.NormalizedEmail == email, cancellationToken);
        if (invitation is null)
        {
            return ChangeResult.Missing;
        }
        var team = invitation.Team!;
        var members = await db.TeamMembers.Where(m => m.TeamId == team.Id).Select(m => m.UserId).ToListAsync(cancellationToken);
        if (accept && !members.Contains(userId))
        {
            db.TeamMembers.Add(new TeamMember { TeamId = team.Id, UserId = userId, Role = invitation.Role, JoinedAt = time.GetUtcNow() });
        }
        db.TeamInvitations.Remove(invitation);
        team.ConcurrencyStamp = Guid.NewGuid();
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        // The team's owners see the invitation go (and the new member come); the person's other tabs update too.
        foreach (var recipient in (accept ? members.Append(userId) : members).Distinct(StringComparer.Ordinal))
        {
            events.Publish(new TeamChanged(team.Id, recipient, Removed: false));
        }
        events.Publish(new TeamInvitationsChanged(userId));
        if (accept && !members.Contains(userId))
        {
            var name = await db.Users.Where(u => u.Id == userId).Select(u => u.DisplayName).SingleOrDefaultAsync(cancellationToken);
            await activity.RecordAsync(new ActivityRecord(team.Id, userId, TeamActivityKind.MemberJoined, SubjectUserId: userId, Detail: name), cancellationToken);
        }
        return accept
            ? new ChangeResult(team.Id, [], Message: $"You joined {team.Name} as {Article(invitation.Role)} {invitation.Role.ToString().ToLowerInvariant()}.")
            : new ChangeResult(invitation.Id, [], Message: $"You declined the invitation to {team.Name}.");
    }

    private static string Article(TeamRole role) => role == TeamRole.Viewer ? "a" : "an";

    /// <summary>
    /// Runs <paramref name="change"/> on the team's current members inside an immediate transaction, saves, and
    /// tells every member before and after (and anyone removed) that the team changed, and anyone whose
    /// invitations changed.
    /// </summary>
    private async Task<ChangeResult> ChangeAsync(ClaimsPrincipal user, Guid teamId, bool ownerOnly,
        Func<TeamChange, Task<string?>> change, CancellationToken cancellationToken)
    {
        if (ResourceAccess.UserId(user) is not { } userId)
        {
            return ChangeResult.Missing;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginWriteTransactionAsync(WriteScope.Teams, cancellationToken);
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
        var context = new TeamChange(db, userId, members);
        context.Told.AddRange(members.Select(m => m.UserId));
        if (await change(context) is { } error)
        {
            return ChangeResult.Refused(error);
        }
        team.ConcurrencyStamp = Guid.NewGuid();
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        var remaining = await db.TeamMembers.Where(m => m.TeamId == teamId).Select(m => m.UserId).ToListAsync(cancellationToken);
        foreach (var recipient in context.Told.Distinct(StringComparer.Ordinal))
        {
            events.Publish(new TeamChanged(teamId, recipient, Removed: !remaining.Contains(recipient)));
        }
        foreach (var invitee in context.Invitees.Distinct(StringComparer.Ordinal))
        {
            events.Publish(new TeamInvitationsChanged(invitee));
        }
        if (context.Activity.Count > 0)
        {
            var subjects = context.Activity.Select(a => a.SubjectUserId).ToList();
            var names = await db.Users.AsNoTracking().Where(u => subjects.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.DisplayName, cancellationToken);
            await activity.RecordAsync([.. context.Activity.Select(a => a with { Detail = a.SubjectUserId is { } s && names.TryGetValue(s, out var n) ? n : null })], cancellationToken);
        }
        return new ChangeResult(teamId, [], Message: context.Message);
    }

    /// <summary>One change to a team in progress: its database, the acting member, the current members and who to tell.</summary>
    private sealed class TeamChange(AppDbContext db, string userId, List<TeamMember> members)
    {
        public AppDbContext Db { get; } = db;

        public string UserId { get; } = userId;

        public List<TeamMember> Members { get; } = members;

        /// <summary>Members (and former members) told that the team changed.</summary>
        public List<string> Told { get; } = [];

        /// <summary>Accounts whose waiting invitations changed.</summary>
        public List<string> Invitees { get; } = [];

        /// <summary>What the change adds to the team's activity feed, written once it is saved.</summary>
        public List<ActivityRecord> Activity { get; } = [];

        public string? Message { get; set; }
    }
}
