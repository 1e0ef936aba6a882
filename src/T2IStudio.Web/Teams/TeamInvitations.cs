using T2IStudio.Data.Entities;
using T2IStudio.Web.Realtime;

namespace T2IStudio.Web.Teams;

/// <summary>An invitation waiting for the signed-in person, as their Teams page lists it.</summary>
/// <param name="Id">The invitation.</param>
/// <param name="TeamId">The team it is for.</param>
/// <param name="TeamName">Its name.</param>
/// <param name="Role">The role they get on accepting.</param>
/// <param name="InvitedBy">The display name of the owner who sent it.</param>
/// <param name="InvitedAt">When it was sent.</param>
public sealed record MyInvitation(Guid Id, Guid TeamId, string TeamName, TeamRole Role, string InvitedBy, DateTimeOffset InvitedAt);

/// <summary>An invitation a team is waiting on, as its owners see it.</summary>
/// <param name="Id">The invitation.</param>
/// <param name="Email">The email it was sent to.</param>
/// <param name="Role">The role it offers.</param>
/// <param name="InvitedBy">The display name of the owner who sent it.</param>
/// <param name="InvitedAt">When it was sent.</param>
public sealed record PendingInvitation(Guid Id, string Email, TeamRole Role, string InvitedBy, DateTimeOffset InvitedAt);

/// <summary>The invitations waiting for the person changed (one arrived, was revoked, or was answered in another tab).</summary>
/// <param name="RecipientId">The person told.</param>
public sealed record TeamInvitationsChanged(string RecipientId) : StudioEvent(RecipientId);
