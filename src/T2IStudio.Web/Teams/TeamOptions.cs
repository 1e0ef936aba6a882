using System.ComponentModel.DataAnnotations;

namespace T2IStudio.Web.Teams;

/// <summary>Limits on team invitations (section <c>Teams</c>).</summary>
public sealed record TeamOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Teams";

    /// <summary>Invitations one team may have waiting at once.</summary>
    [Range(1, 10_000, ErrorMessage = "Teams:MaxPendingInvitationsPerTeam must be between 1 and 10000.")]
    public int MaxPendingInvitationsPerTeam { get; init; } = 50;

    /// <summary>Invitations one person may have sent and still waiting, over all their teams.</summary>
    [Range(1, 10_000, ErrorMessage = "Teams:MaxPendingInvitationsPerInviter must be between 1 and 10000.")]
    public int MaxPendingInvitationsPerInviter { get; init; } = 50;
}
