namespace T2IStudio.Data.Entities;

/// <summary>
/// An owner asked someone, by email, to join a team. It grants nothing until the account with that email accepts
/// it; it is matched by the normalised email, so an account registered later sees it too.
/// </summary>
public sealed class TeamInvitation
{
    /// <summary>The invitation's id.</summary>
    public Guid Id { get; set; }

    /// <summary>The team.</summary>
    public Guid TeamId { get; set; }

    /// <summary>The team.</summary>
    public Team? Team { get; set; }

    /// <summary>The email as the owner typed it (trimmed), for the owner's list.</summary>
    public string Email { get; set; } = "";

    /// <summary>The email in Identity's normalisation (upper case), matched against accounts.</summary>
    public string NormalizedEmail { get; set; } = "";

    /// <summary>The role the invitee gets on accepting.</summary>
    public TeamRole Role { get; set; }

    /// <summary>The owner who sent it.</summary>
    public string InvitedById { get; set; } = "";

    /// <summary>The owner who sent it.</summary>
    public AppUser? InvitedBy { get; set; }

    /// <summary>When it was sent (UTC).</summary>
    public DateTimeOffset InvitedAt { get; set; }
}

/// <summary>
/// A single-use link an administrator made so someone can register while registration is invite-only.
/// Only the SHA-256 of its token is stored.
/// </summary>
public sealed class InviteLink
{
    /// <summary>The link's id.</summary>
    public Guid Id { get; set; }

    /// <summary>Lower-case hex SHA-256 of the token in the link.</summary>
    public string TokenHash { get; set; } = "";

    /// <summary>The administrator who made it.</summary>
    public string CreatedById { get; set; } = "";

    /// <summary>When it was made (UTC).</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>After this it no longer registers anyone (UTC).</summary>
    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>When an account was registered with it (UTC); null while unused.</summary>
    public DateTimeOffset? UsedAt { get; set; }

    /// <summary>The account registered with it.</summary>
    public string? UsedById { get; set; }
}
